/**
 * The bartender guests chat with (docs/bartender.md): the API calls, the chat's state
 * (bubbles, waiting, the notice when the bartender is off, busy or unreachable), the
 * conversation id kept in sessionStorage so a reload picks the chat up again, and the
 * proposal's one-tap confirm, which goes through the app's normal order placement.
 */
import { markRaw, reactive } from "vue";
import { api, ApiError, NETWORK_ERROR, type ApiClient } from "./api";
import { t } from "./i18n";
import { OrderAttempt, orderErrorMessage, type FriendlyError } from "./ordering";
import type { KeyValueStore } from "./session";
import type { Drink, Order, OrderItemRequest } from "./types";

// ---------------------------------------------------------------- the contract

export interface BartenderStatus {
  enabled: boolean;
  engine: string;
}

/** Exactly the body of POST /orders. */
export interface Proposal {
  items: OrderItemRequest[];
}

export interface BartenderReply {
  conversation_id: string;
  reply: string;
  drinks: Drink[];
  proposal?: Proposal | null;
  engine: string;
}

export interface ConversationMessage {
  role: "guest" | "bartender";
  text: string;
  created_at: string;
  drinks?: Drink[];
  proposal?: Proposal | null;
  engine?: string;
}

export interface Conversation {
  id: string;
  created_at: string;
  expires_at: string;
  messages: ConversationMessage[];
}

export const MAX_MESSAGE_CHARS = 500;
/** The API's Retry-After for 429 (a cross-origin API may not let the page read the header). */
export const DEFAULT_RETRY_AFTER_S = 30;

/** The chips that start a chat, in the guest's language (the offline bartender reads both). */
export function suggestions(): string[] {
  return [t("chat.suggestion1"), t("chat.suggestion2"), t("chat.suggestion3"), t("chat.suggestion4")];
}

export function bartenderStatus(client: ApiClient = api): Promise<BartenderStatus> {
  return client.request<BartenderStatus>("/bartender", { auth: "guest" });
}

export function sendMessage(message: string, conversationId: string | null, client: ApiClient = api): Promise<BartenderReply> {
  const body: { message: string; conversation_id?: string } = { message };
  if (conversationId) body.conversation_id = conversationId;
  return client.request<BartenderReply>("/bartender/messages", { method: "POST", auth: "guest", body });
}

export function loadConversation(id: string, client: ApiClient = api): Promise<Conversation> {
  return client.request<Conversation>(`/bartender/conversations/${encodeURIComponent(id)}`, { auth: "guest" });
}

// ---------------------------------------------------------------- words

const OFFLINE_LABEL = /\s*\((?:offline bartender|bartendern offline)\)\s*$/i;

/** The offline engine ends its replies with a label: shown as a badge, not in the bubble. */
export function replyText(text: string, engine: string | undefined): { text: string; offline: boolean } {
  if (engine !== "offline") return { text, offline: false };
  return { text: text.replace(OFFLINE_LABEL, "").trim(), offline: true };
}

/** "Order 2 × Margarita", "Order 1 × Mojito and 2 × Negroni": names from the reply's cards. */
export function proposalLabel(proposal: Proposal, drinks: Pick<Drink, "id" | "name">[]): string {
  const parts = proposal.items.map((item) => {
    const name = drinks.find((d) => d.id === item.drink_id)?.name ?? t("chat.aDrink");
    return `${item.quantity} × ${name}`;
  });
  const and = ` ${t("chat.and")} `;
  const list = parts.length > 1 ? `${parts.slice(0, -1).join(", ")}${and}${parts[parts.length - 1]}` : (parts[0] ?? "");
  return t("chat.proposal", { list });
}

export type NoticeKind = "off" | "slow" | "offline" | "signed-out" | "refused" | "busy";

export interface ChatNotice {
  kind: NoticeKind;
  text: string;
}

/** What the guest reads when a message did not get an answer. */
export function chatNotice(error: unknown): ChatNotice {
  if (!(error instanceof ApiError)) return { kind: "busy", text: t("chat.notice.error") };
  if (error.code === "BartenderOff") return { kind: "off", text: t("chat.notice.off") };
  if (error.status === 429) {
    const wait = Math.max(1, Math.ceil(error.retryAfter ?? DEFAULT_RETRY_AFTER_S));
    return { kind: "slow", text: t("chat.notice.slow", { n: wait }) };
  }
  if (error.code === NETWORK_ERROR) return { kind: "offline", text: t("chat.notice.offline") };
  if (error.status === 401 || error.code === "SignedOut") return { kind: "signed-out", text: t("chat.notice.signedOut") };
  if (error.status === 400) return { kind: "refused", text: t("chat.notice.refused", { error: error.message }) };
  return { kind: "busy", text: t("chat.notice.busy") };
}

// ---------------------------------------------------------------- memory (sessionStorage)

export const CONVERSATION_KEY = "da.bartender";

interface Remembered {
  guest: string;
  id: string;
  /** Proposals already ordered from: message position -> order number. */
  placed: Record<string, number>;
}

function defaultSessionStore(): KeyValueStore | null {
  try {
    return globalThis.sessionStorage ?? null;
  } catch {
    return null;
  }
}

/** This tab's conversation with the bartender, per guest: a reload continues it. */
export class ConversationMemory {
  constructor(private readonly store: KeyValueStore | null = defaultSessionStore()) {}

  private read(guest: string): Remembered | null {
    try {
      const value = JSON.parse(this.store?.getItem(CONVERSATION_KEY) ?? "null") as Remembered | null;
      if (!value || value.guest !== guest || typeof value.id !== "string") return null;
      return { guest, id: value.id, placed: value.placed && typeof value.placed === "object" ? value.placed : {} };
    } catch {
      return null;
    }
  }

  private write(value: Remembered | null): void {
    try {
      if (value) this.store?.setItem(CONVERSATION_KEY, JSON.stringify(value));
      else this.store?.removeItem(CONVERSATION_KEY);
    } catch {
      // storage disabled: the chat lives for this page only
    }
  }

  conversation(guest: string): string | null {
    return this.read(guest)?.id ?? null;
  }

  remember(guest: string, id: string): void {
    const known = this.read(guest);
    this.write({ guest, id, placed: known?.id === id ? known.placed : {} });
  }

  forget(): void {
    this.write(null);
  }

  placed(guest: string, position: number): number | null {
    return this.read(guest)?.placed[String(position)] ?? null;
  }

  markPlaced(guest: string, position: number, orderNumber: number): void {
    const known = this.read(guest);
    if (known) this.write({ ...known, placed: { ...known.placed, [String(position)]: orderNumber } });
  }
}

// ---------------------------------------------------------------- the proposal's confirm

/** Places an order through the app's one order path (store.placeOrder) with this key. */
export type PlaceOrder = (items: OrderItemRequest[], notes: string, idempotencyKey: string) => Promise<Order>;

/**
 * One proposal's confirm button. A new Idempotency-Key per proposal; a retry after a lost
 * answer sends the same key (the bar makes the drinks once), a definite answer settles it.
 */
export class ProposalOrder {
  readonly state = reactive({
    sending: false,
    order: null as Pick<Order, "id" | "number"> | null,
    problem: null as FriendlyError | null,
  });
  private readonly attempt = new OrderAttempt();

  constructor(
    readonly proposal: Proposal,
    private readonly place: PlaceOrder,
    private readonly onPlaced: (order: Order) => void = () => {},
  ) {}

  async confirm(): Promise<Order | null> {
    if (this.state.sending || this.state.order) return null;
    this.state.sending = true;
    this.state.problem = null;
    const items = this.proposal.items.map(({ drink_id, quantity, notes }) => ({ drink_id, quantity, notes: notes ?? "" }));
    try {
      const order = await this.place(items, "", this.attempt.keyFor(items));
      this.attempt.settle();
      this.state.order = { id: order.id, number: order.number };
      this.onPlaced(order);
      return order;
    } catch (error) {
      const problem = orderErrorMessage(error);
      if (!problem.retry) this.attempt.settle();
      this.state.problem = problem;
      return null;
    } finally {
      this.state.sending = false;
    }
  }
}

/** What the confirm button needs of a ProposalOrder. */
export type ProposalHandle = Pick<ProposalOrder, "state" | "proposal" | "confirm">;

// ---------------------------------------------------------------- the chat

export interface ChatEntry {
  /** Position in the conversation (what the API stores), also the list key. */
  position: number;
  role: "guest" | "bartender";
  text: string;
  offline: boolean;
  drinks: Drink[];
  proposal: ProposalHandle | null;
}

export interface ChatDeps {
  guestId: () => string | null;
  place: PlaceOrder;
  client?: ApiClient;
  memory?: ConversationMemory;
}

export class BartenderChat {
  readonly state = reactive({
    entries: [] as ChatEntry[],
    /** A message is on its way: the typing indicator. */
    waiting: false,
    restoring: false,
    notice: null as ChatNotice | null,
  });
  private conversationId: string | null = null;
  private readonly client: ApiClient;
  private readonly memory: ConversationMemory;

  constructor(private readonly deps: ChatDeps) {
    this.client = deps.client ?? api;
    this.memory = deps.memory ?? new ConversationMemory();
  }

  get conversation(): string | null {
    return this.conversationId;
  }

  /** Pick up this tab's conversation (after a reload); an unknown or expired one starts fresh. */
  async restore(): Promise<void> {
    const guest = this.deps.guestId();
    const id = guest ? this.memory.conversation(guest) : null;
    if (!guest || !id) return;
    this.state.restoring = true;
    try {
      const conversation = await loadConversation(id, this.client);
      this.conversationId = conversation.id;
      this.state.entries = conversation.messages.map((m, position) =>
        this.entry(position, m.role, m.text, m.engine, m.drinks ?? [], m.proposal ?? null),
      );
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) this.memory.forget();
      else this.state.notice = chatNotice(error);
    } finally {
      this.state.restoring = false;
    }
  }

  /** Send what the guest typed; false when it was not sent (the view gives the text back). */
  async send(raw: string): Promise<boolean> {
    const message = raw.trim();
    if (!message || this.state.waiting) return false;
    if (message.length > MAX_MESSAGE_CHARS) {
      this.state.notice = { kind: "refused", text: t("chat.notice.tooLong", { n: MAX_MESSAGE_CHARS }) };
      return false;
    }
    this.state.notice = null;
    const mine = this.entry(this.state.entries.length, "guest", message, undefined, [], null);
    this.state.entries.push(mine);
    this.state.waiting = true;
    try {
      let reply: BartenderReply;
      try {
        reply = await sendMessage(message, this.conversationId, this.client);
      } catch (error) {
        if (!(error instanceof ApiError && error.status === 404 && this.conversationId)) throw error;
        this.startOver(); // the conversation expired (the party is over): a new one
        mine.position = 0;
        this.state.entries = [mine];
        reply = await sendMessage(message, null, this.client);
      }
      this.conversationId = reply.conversation_id;
      const guest = this.deps.guestId();
      if (guest) this.memory.remember(guest, reply.conversation_id);
      this.state.entries.push(
        this.entry(this.state.entries.length, "bartender", reply.reply, reply.engine, reply.drinks ?? [], reply.proposal ?? null),
      );
      return true;
    } catch (error) {
      this.state.entries = this.state.entries.filter((e) => e !== mine);
      this.state.notice = chatNotice(error);
      return false;
    } finally {
      this.state.waiting = false;
    }
  }

  /** Forget this conversation; the next message starts a new one. */
  startOver(): void {
    this.conversationId = null;
    this.memory.forget();
    this.state.entries = [];
    this.state.notice = null;
  }

  private entry(
    position: number,
    role: "guest" | "bartender",
    text: string,
    engine: string | undefined,
    drinks: Drink[],
    proposal: Proposal | null,
  ): ChatEntry {
    const shown = role === "bartender" ? replyText(text, engine) : { text, offline: false };
    let order: ProposalOrder | null = null;
    if (proposal?.items?.length) {
      // markRaw: its own state is reactive; the rest need not be proxied.
      order = markRaw(
        new ProposalOrder(proposal, this.deps.place, (placed) => {
          const guest = this.deps.guestId();
          if (guest) this.memory.markPlaced(guest, position, placed.number);
        }),
      );
      const guest = this.deps.guestId();
      const number = guest ? this.memory.placed(guest, position) : null;
      if (number !== null) order.state.order = { id: "", number }; // ordered before the reload
    }
    return reactive({ position, role, text: shown.text, offline: shown.offline, drinks, proposal: order }) as ChatEntry;
  }
}
