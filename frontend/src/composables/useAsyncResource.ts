/**
 * One view's data from the API: the load, the page-level error, and the writes that
 * follow (each says how it went in a toast and reloads the list). Per view, not a module
 * singleton: two views (or two tabs of one view) never share it.
 *
 *   const sections = useAsyncResource(sectionsApi.list, { initial: [] });
 *   sections.data.value; sections.loaded.value; sections.error.value
 *   await sections.act(() => sectionsApi.archive(id), (s) => `${s.name} archived`);
 */
import { getCurrentInstance, onMounted, ref, shallowRef, type Ref, type ShallowRef } from "vue";

export type Notify = (text: string, kind: "info" | "error") => void;

export interface AsyncResourceOptions<T> {
  initial: T;
  /** Load on mount (inside a component) or at once (outside one). Default true. */
  immediate?: boolean;
  /** An error in words for people (the console's errorText). */
  describe?: (error: unknown) => string;
  /** Where act() reports (the console's toast). */
  notify?: Notify;
}

export interface AsyncResource<T> {
  data: ShallowRef<T>;
  /** The first load finished (well or not). */
  loaded: Ref<boolean>;
  loading: Ref<boolean>;
  /** The last load's failure in words; "" when it worked. */
  error: Ref<string>;
  /** Load again; true when it worked. A newer reload wins over an older one still in flight. */
  reload: () => Promise<boolean>;
  /**
   * A write: run it, then toast `success` (text, or made from the result) and reload
   * (unless `reload: false`); on failure toast the error. Returns the result, or
   * undefined when it failed.
   */
  act: <R>(
    run: () => Promise<R>,
    success?: string | ((result: R) => string),
    options?: { reload?: boolean },
  ) => Promise<R | undefined>;
}

const plain = (error: unknown): string => (error instanceof Error ? error.message : String(error));

export function useAsyncResource<T>(load: () => Promise<T>, options: AsyncResourceOptions<T>): AsyncResource<T> {
  const data = shallowRef(options.initial) as ShallowRef<T>;
  const loaded = ref(false);
  const loading = ref(false);
  const error = ref("");
  const describe = options.describe ?? plain;
  let latest = 0;

  async function reload(): Promise<boolean> {
    const mine = ++latest;
    loading.value = true;
    try {
      const value = await load();
      if (mine === latest) {
        data.value = value;
        error.value = "";
      }
      return true;
    } catch (failure) {
      if (mine === latest) error.value = describe(failure);
      return false;
    } finally {
      if (mine === latest) {
        loading.value = false;
        loaded.value = true;
      }
    }
  }

  async function act<R>(
    run: () => Promise<R>,
    success?: string | ((result: R) => string),
    { reload: again = true }: { reload?: boolean } = {},
  ): Promise<R | undefined> {
    let result: R;
    try {
      result = await run();
    } catch (failure) {
      options.notify?.(describe(failure), "error");
      return undefined;
    }
    if (success !== undefined) options.notify?.(typeof success === "function" ? success(result) : success, "info");
    if (again) await reload();
    return result;
  }

  if (options.immediate ?? true) {
    if (getCurrentInstance()) onMounted(() => void reload());
    else void reload();
  }
  return { data, loaded, loading, error, reload, act };
}
