import { describe, expect, it } from "vitest";
import { useAsyncResource } from "../src/composables/useAsyncResource";
import { flush } from "./helpers";

/** A promise the test settles by hand. */
function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
}

describe("useAsyncResource", () => {
  it("loads at once outside a component: data, loaded, no error", async () => {
    let calls = 0;
    const list = useAsyncResource(async () => ((calls += 1), ["a", "b"]), { initial: [] as string[] });
    expect(list.loaded.value).toBe(false);
    expect(list.loading.value).toBe(true);
    await flush();
    expect(calls).toBe(1);
    expect(list.data.value).toEqual(["a", "b"]);
    expect(list.loaded.value).toBe(true);
    expect(list.loading.value).toBe(false);
    expect(list.error.value).toBe("");
  });

  it("says a failed load in words, keeps the data it had, and clears the error once a reload works", async () => {
    let fail = false;
    const list = useAsyncResource(
      async () => {
        if (fail) throw new Error("boom");
        return [1];
      },
      { initial: [] as number[], describe: (e) => `Could not load: ${(e as Error).message}` },
    );
    await flush();
    fail = true;
    expect(await list.reload()).toBe(false);
    expect(list.error.value).toBe("Could not load: boom");
    expect(list.data.value).toEqual([1]);
    expect(list.loaded.value).toBe(true);
    fail = false;
    expect(await list.reload()).toBe(true);
    expect(list.error.value).toBe("");
  });

  it("does not load until asked when immediate is false", async () => {
    let calls = 0;
    const list = useAsyncResource(async () => ((calls += 1), 1), { initial: 0, immediate: false });
    await flush();
    expect(calls).toBe(0);
    expect(list.loaded.value).toBe(false);
    await list.reload();
    expect(calls).toBe(1);
    expect(list.data.value).toBe(1);
  });

  it("lets the newest reload win over an older one that answers last", async () => {
    const answers = [deferred<string>(), deferred<string>()];
    let call = 0;
    const item = useAsyncResource(() => answers[call++].promise, { initial: "", immediate: false });
    const older = item.reload();
    const newer = item.reload();
    answers[1].resolve("new");
    await newer;
    expect(item.data.value).toBe("new");
    expect(item.loading.value).toBe(false);
    answers[0].resolve("old");
    await older;
    expect(item.data.value).toBe("new"); // the stale answer is dropped
    // and a stale failure does not show either
    const late = [deferred<string>(), deferred<string>()];
    call = 0;
    answers.splice(0, 2, ...late);
    const a = item.reload();
    const b = item.reload();
    late[1].resolve("newest");
    await b;
    late[0].reject(new Error("old failure"));
    await a;
    expect(item.error.value).toBe("");
    expect(item.data.value).toBe("newest");
  });

  it("act: a write that works is said in a toast (text or from its result) and reloads", async () => {
    const toasts: [string, string][] = [];
    let loads = 0;
    const list = useAsyncResource(async () => ((loads += 1), loads), {
      initial: 0,
      immediate: false,
      notify: (text, kind) => toasts.push([text, kind]),
    });
    const result = await list.act(async () => ({ name: "Sours" }), (made) => `${made.name} archived`);
    expect(result).toEqual({ name: "Sours" });
    expect(toasts).toEqual([["Sours archived", "info"]]);
    expect(loads).toBe(1);
    expect(list.data.value).toBe(1);

    await list.act(async () => 1, "Saved", { reload: false });
    expect(toasts.at(-1)).toEqual(["Saved", "info"]);
    expect(loads).toBe(1); // no reload asked for
  });

  it("act: a write that fails is an error toast in words, no reload, and undefined", async () => {
    const toasts: [string, string][] = [];
    let loads = 0;
    const list = useAsyncResource(async () => ((loads += 1), loads), {
      initial: 0,
      immediate: false,
      describe: (e) => `Nope: ${(e as Error).message}`,
      notify: (text, kind) => toasts.push([text, kind]),
    });
    const result = await list.act(async () => {
      throw new Error("refused");
    }, "Saved");
    expect(result).toBeUndefined();
    expect(toasts).toEqual([["Nope: refused", "error"]]);
    expect(loads).toBe(0);
    expect(list.error.value).toBe(""); // a failed write is not a failed page
  });
});
