import { afterEach, describe, expect, it, vi } from "vitest";
import { ApiClient, ApiError } from "../src/lib/api";
import {
  BartenderChat,
  chatNotice,
  ConversationMemory,
  proposalLabel,
  ProposalOrder,
  replyText,
  type BartenderReply,
  type Conversation,
} from "../src/lib/bartender";
import { SessionStore } from "../src/lib/session";
import type { Drink, Order } from "../src/lib/types";
import { jsonResponse, MemoryStore } from "./helpers";

const GUEST = { id: "g-1", name: "Sam" };
const tokens = { access_token: "t-1", refresh_token: "r-1", expires_in: 14400, guest: GUEST };

function drink(id: string, name: string, extra: Partial<Drink> = {}): Drink {
  return {
    id,
    section_id: "s",
    name,
    description: "",
    ingredients: [],
    recipe_steps: [],
    glass: "coupe",
    garnish: null,
    tags: [],
    abv: null,
    image_url: null,
    available: true,
    allergens: [],
    alcohol_free: false,
    ...extra,
  };
}

const GIMLET = drink("d-gimlet", "Gimlet");
const MARGARITA = drink("d-marg", "Margarita");
const CONV = "11111111-2222-3333-4444-555555555555";

function reply(text: string, extra: Partial<BartenderReply> = {}): BartenderReply {
  return { conversation_id: CONV, reply: text, drinks: [], engine: "offline", ...extra };
}

/** A real ApiClient (signed in as a guest) over a scripted fetch. */
function client(responses: Array<Response | Error>) {
  const calls: { url: string; method: string; body: unknown; headers: Record<string, string> }[] = [];
  const session = new SessionStore(new MemoryStore());
  session.signIn(tokens);
  const api = new ApiClient({
    baseUrl: () => "https://api.example/prod",
    apiKey: () => "",
    session,
    fetch: async (url, init) => {
      calls.push({
        url: String(url),
        method: init?.method ?? "GET",
        body: init?.body ? JSON.parse(String(init.body)) : undefined,
        headers: (init?.headers ?? {}) as Record<string, string>,
      });
      const next = responses.shift();
      if (!next) throw new Error("unexpected request");
      if (next instanceof Error) throw next;
      return next;
    },
  });
  return { api, calls };
}

const noOrders = () => Promise.reject(new Error("no order expected"));

function chatWith(responses: Array<Response | Error>, memory = new ConversationMemory(new MemoryStore())) {
  const { api, calls } = client(responses);
  const chat = new BartenderChat({ guestId: () => GUEST.id, place: noOrders, client: api, memory });
  return { chat, calls, memory };
}

describe("replyText", () => {
  it("takes the offline engine's label out of the bubble and shows a badge instead", () => {
    expect(replyText("How about a Gimlet? (offline bartender)", "offline")).toEqual({
      text: "How about a Gimlet?",
      offline: true,
    });
    expect(replyText("Vad sägs om en Gimlet? (bartendern offline)", "offline").text).toBe("Vad sägs om en Gimlet?");
  });

  it("leaves a model's reply alone", () => {
    expect(replyText("We have (offline bartender) on the menu", "bedrock")).toEqual({
      text: "We have (offline bartender) on the menu",
      offline: false,
    });
  });
});

describe("proposalLabel", () => {
  it("names the drinks from the reply's cards", () => {
    expect(proposalLabel({ items: [{ drink_id: "d-marg", quantity: 2, notes: "" }] }, [MARGARITA])).toBe(
      "Order 2 × Margarita",
    );
    const two = {
      items: [
        { drink_id: "d-gimlet", quantity: 1, notes: "" },
        { drink_id: "d-marg", quantity: 2, notes: "" },
        { drink_id: "d-x", quantity: 1, notes: "" },
      ],
    };
    expect(proposalLabel(two, [GIMLET, MARGARITA])).toBe("Order 1 × Gimlet, 2 × Margarita and 1 × drink");
  });
});

describe("chatNotice", () => {
  it("says the bartender is off on 409 BartenderOff", () => {
    expect(chatNotice(new ApiError(409, "BartenderOff", "off"))).toMatchObject({ kind: "off" });
  });

  it("says how long to wait on 429, from Retry-After or the API's 30 s", () => {
    const limited = new ApiError(429, "TooManyMessages", "slow");
    expect(chatNotice(limited).text).toBe("Slow down a moment, try again in 30 s.");
    limited.retryAfter = 12;
    expect(chatNotice(limited)).toEqual({ kind: "slow", text: "Slow down a moment, try again in 12 s." });
  });

  it("tells an offline phone, a signed-out visitor and a refused message apart", () => {
    expect(chatNotice(new ApiError(0, "NetworkError", "")).kind).toBe("offline");
    expect(chatNotice(new ApiError(401, "SignedOut", "")).kind).toBe("signed-out");
    expect(chatNotice(new ApiError(400, "BadRequestError", "message: too long")).text).toContain("message: too long");
    expect(chatNotice(new ApiError(503, "ServiceUnavailableError", "")).kind).toBe("busy");
  });
});

describe("ApiError.retryAfter", () => {
  it("is read from the 429's Retry-After header", async () => {
    const limited = new Response(JSON.stringify({ Code: "TooManyMessages", Message: "slow" }), {
      status: 429,
      headers: { "Content-Type": "application/json", "Retry-After": "30" },
    });
    const { api } = client([limited]);
    const error = await api.request("/bartender/messages", { method: "POST", auth: "guest", body: {} }).catch((e: unknown) => e);
    if (!(error instanceof ApiError)) throw new Error("expected an ApiError");
    expect([error.code, error.retryAfter]).toEqual(["TooManyMessages", 30]);
  });
});

describe("BartenderChat", () => {
  it("sends a message, shows both bubbles and keeps the conversation for the next one", async () => {
    const first = reply("How about a Gimlet? (offline bartender)", { drinks: [GIMLET] });
    const { chat, calls, memory } = chatWith([jsonResponse(200, first), jsonResponse(200, reply("Sure."))]);
    const sending = chat.send("  something with gin  ");
    expect(chat.state.waiting).toBe(true); // the typing indicator
    expect(chat.state.entries.map((e) => [e.role, e.text])).toEqual([["guest", "something with gin"]]);
    expect(await sending).toBe(true);
    expect(chat.state.waiting).toBe(false);
    expect(calls[0]).toMatchObject({
      url: "https://api.example/prod/bartender/messages",
      method: "POST",
      body: { message: "something with gin" },
    });
    expect(calls[0].headers.Authorization).toBe("Bearer t-1");
    const answer = chat.state.entries[1];
    expect([answer.role, answer.text, answer.offline, answer.drinks.map((d) => d.name)]).toEqual([
      "bartender",
      "How about a Gimlet?",
      true,
      ["Gimlet"],
    ]);
    expect(memory.conversation(GUEST.id)).toBe(CONV);

    await chat.send("thanks");
    expect(calls[1].body).toEqual({ message: "thanks", conversation_id: CONV });
    expect(chat.state.entries.map((e) => e.position)).toEqual([0, 1, 2, 3]);
  });

  it("ignores an empty message and refuses an over-long one without a request", async () => {
    const { chat, calls } = chatWith([]);
    expect(await chat.send("   ")).toBe(false);
    expect(await chat.send("x".repeat(501))).toBe(false);
    expect(chat.state.notice?.kind).toBe("refused");
    expect(calls).toHaveLength(0);
    expect(chat.state.entries).toHaveLength(0);
  });

  it("on a refusal takes the guest's bubble back and says why", async () => {
    const off = jsonResponse(409, { Code: "BartenderOff", Message: "off" });
    const { chat } = chatWith([off, new TypeError("Failed to fetch")]);
    expect(await chat.send("gin please")).toBe(false);
    expect(chat.state.entries).toHaveLength(0);
    expect(chat.state.notice?.kind).toBe("off");
    expect(await chat.send("gin please")).toBe(false);
    expect(chat.state.notice?.kind).toBe("offline");
    expect(chat.state.waiting).toBe(false);
  });

  it("picks the conversation up after a reload", async () => {
    const memory = new ConversationMemory(new MemoryStore());
    memory.remember(GUEST.id, CONV);
    const conversation: Conversation = {
      id: CONV,
      created_at: "2026-12-01T21:00:00Z",
      expires_at: "2026-12-02T09:00:00Z",
      messages: [
        { role: "guest", text: "two margaritas please", created_at: "2026-12-01T21:00:01Z" },
        {
          role: "bartender",
          text: "Shall I put 2 × Margarita on your order? (offline bartender)",
          created_at: "2026-12-01T21:00:02Z",
          drinks: [MARGARITA],
          proposal: { items: [{ drink_id: "d-marg", quantity: 2, notes: "" }] },
          engine: "offline",
        },
      ],
    };
    const { chat, calls } = chatWith([jsonResponse(200, conversation)], memory);
    await chat.restore();
    expect(calls[0].url).toBe(`https://api.example/prod/bartender/conversations/${CONV}`);
    expect(chat.state.entries.map((e) => e.role)).toEqual(["guest", "bartender"]);
    expect(chat.state.entries[1].text).toBe("Shall I put 2 × Margarita on your order?");
    expect(chat.state.entries[1].proposal?.proposal.items[0].quantity).toBe(2);
    expect(chat.conversation).toBe(CONV);
  });

  it("starts fresh when the kept conversation is gone (404)", async () => {
    const memory = new ConversationMemory(new MemoryStore());
    memory.remember(GUEST.id, CONV);
    const { chat } = chatWith([jsonResponse(404, { Code: "NotFoundError", Message: "no such conversation" })], memory);
    await chat.restore();
    expect(chat.state.entries).toHaveLength(0);
    expect(chat.state.notice).toBeNull();
    expect(memory.conversation(GUEST.id)).toBeNull();
  });

  it("starts a new conversation when the old one expired between messages", async () => {
    const gone = jsonResponse(404, { Code: "NotFoundError", Message: "no such conversation" });
    const { chat, calls } = chatWith([jsonResponse(200, reply("Hi")), gone, jsonResponse(200, reply("Hello again"))]);
    await chat.send("hi");
    expect(await chat.send("still there?")).toBe(true);
    expect(calls.map((c) => c.body)).toEqual([
      { message: "hi" },
      { message: "still there?", conversation_id: CONV },
      { message: "still there?" },
    ]);
    expect(chat.state.entries.map((e) => [e.position, e.text])).toEqual([
      [0, "still there?"],
      [1, "Hello again"],
    ]);
  });

  it("keeps one guest's conversation away from the next guest on the same phone", () => {
    const memory = new ConversationMemory(new MemoryStore());
    memory.remember("g-1", CONV);
    expect(memory.conversation("g-2")).toBeNull();
    expect(memory.conversation("g-1")).toBe(CONV);
  });
});

describe("ProposalOrder", () => {
  const order = (number: number): Order => ({
    id: `o-${number}`,
    number,
    status: "pending",
    items: [],
    notes: "",
    created_at: "",
    updated_at: "",
  });
  const proposal = { items: [{ drink_id: "d-marg", quantity: 2, notes: "" }] };

  it("sends exactly the proposal, once; a retry after a lost answer reuses the key", async () => {
    const keys: string[] = [];
    const answers: Array<Order | Error> = [new ApiError(0, "NetworkError", ""), order(7)];
    const place = async (items: unknown, notes: string, key: string) => {
      expect([items, notes]).toEqual([proposal.items, ""]);
      keys.push(key);
      const next = answers.shift()!;
      if (next instanceof Error) throw next;
      return next;
    };
    const placed: number[] = [];
    const confirm = new ProposalOrder(proposal, place, (o) => placed.push(o.number));
    expect(await confirm.confirm()).toBeNull();
    expect(confirm.state.problem?.retry).toBe(true);
    expect((await confirm.confirm())?.number).toBe(7);
    expect(keys[0]).toBe(keys[1]);
    expect(confirm.state.order).toEqual({ id: "o-7", number: 7 });
    expect(placed).toEqual([7]);
    expect(await confirm.confirm()).toBeNull(); // placed: a second tap orders nothing
    expect(keys).toHaveLength(2);
  });

  it("gets a new key after a definite refusal, and each proposal its own", async () => {
    const keys: string[] = [];
    const refuse = async (_items: unknown, _notes: string, key: string): Promise<Order> => {
      keys.push(key);
      throw new ApiError(409, "TooManyActiveOrders", "x");
    };
    const first = new ProposalOrder(proposal, refuse);
    await first.confirm();
    await first.confirm();
    await new ProposalOrder(proposal, refuse).confirm();
    expect(new Set(keys).size).toBe(3);
    expect(first.state.problem?.title).toBe("You have drinks on the way");
  });

  it("a proposal ordered before a reload shows its order, not the button", async () => {
    const memory = new ConversationMemory(new MemoryStore());
    memory.remember(GUEST.id, CONV);
    const conversation: Conversation = {
      id: CONV,
      created_at: "",
      expires_at: "",
      messages: [
        { role: "guest", text: "two margaritas", created_at: "" },
        { role: "bartender", text: "Shall I?", created_at: "", drinks: [MARGARITA], proposal, engine: "offline" },
      ],
    };
    const { api } = client([jsonResponse(200, reply("Shall I?", { drinks: [MARGARITA], proposal })), jsonResponse(200, conversation)]);
    const chat = new BartenderChat({ guestId: () => GUEST.id, place: async () => order(9), client: api, memory });
    await chat.send("two margaritas");
    await chat.state.entries[1].proposal!.confirm();

    const again = new BartenderChat({ guestId: () => GUEST.id, place: noOrders, client: api, memory });
    await again.restore();
    expect(again.state.entries[1].proposal?.state.order?.number).toBe(9);
  });
});

describe("store.placeOrder (the app's one order path)", () => {
  afterEach(() => vi.unstubAllGlobals());

  it("posts the proposal to /orders with its Idempotency-Key as the guest", async () => {
    const calls: { url: string; init: RequestInit }[] = [];
    vi.stubGlobal("fetch", async (url: string, init: RequestInit) => {
      calls.push({ url, init });
      return jsonResponse(201, { id: "o-1", number: 1, status: "pending", items: [], notes: "" });
    });
    const { guestSession } = await import("../src/lib/session");
    const { placeOrder } = await import("../src/lib/store");
    guestSession.signIn(tokens);
    try {
      const confirm = new ProposalOrder({ items: [{ drink_id: "d-marg", quantity: 2, notes: "" }] }, placeOrder);
      expect((await confirm.confirm())?.number).toBe(1);
    } finally {
      guestSession.clear();
    }
    expect(calls).toHaveLength(1);
    expect(calls[0].url).toMatch(/\/orders$/);
    expect(calls[0].init.method).toBe("POST");
    expect(JSON.parse(String(calls[0].init.body))).toEqual({
      items: [{ drink_id: "d-marg", quantity: 2, notes: "" }],
      notes: "",
    });
    const headers = calls[0].init.headers as Record<string, string>;
    expect(headers["Idempotency-Key"]).toMatch(/\S{8,}/);
    expect(headers.Authorization).toBe("Bearer t-1");
  });
});
