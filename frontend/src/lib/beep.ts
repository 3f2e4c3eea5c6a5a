/**
 * A short two-tone chime for a new order, made with WebAudio (no audio file to load).
 * Browsers only let a page make sound after a user gesture, so the console calls
 * `unlockSound()` on the first tap; before that, a beep is silently skipped.
 */
import { t } from "./i18n";

let context: AudioContext | null = null;

export function unlockSound(): void {
  try {
    const Ctor = globalThis.AudioContext ?? (globalThis as unknown as { webkitAudioContext?: typeof AudioContext }).webkitAudioContext;
    if (!Ctor) return;
    context ??= new Ctor();
    if (context.state === "suspended") void context.resume().catch(() => {});
  } catch {
    context = null;
  }
}

export function beep(): void {
  const ctx = context;
  if (!ctx || ctx.state !== "running") return;
  playNotes(ctx, [[0, 880], [0.16, 1320]], "sine", 0.25, 0.14, 0.15);
}

/** Short notes `[offset s, Hz]`: a quick fade in, a fade out over `fade` s, stopped at `stop` s. */
function playNotes(
  ctx: AudioContext,
  notes: readonly (readonly [number, number])[],
  type: OscillatorType,
  peak: number,
  fade: number,
  stop: number,
): void {
  const start = ctx.currentTime;
  for (const [offset, frequency] of notes) {
    const osc = ctx.createOscillator();
    const gain = ctx.createGain();
    osc.type = type;
    osc.frequency.value = frequency;
    gain.gain.setValueAtTime(0.0001, start + offset);
    gain.gain.exponentialRampToValueAtTime(peak, start + offset + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, start + offset + fade);
    osc.connect(gain).connect(ctx.destination);
    osc.start(start + offset);
    osc.stop(start + offset + stop);
  }
}

// ---------------------------------------------------------------- the guest's ready moment
// When the phone is not in hand: a rising three-note chime (unless muted), and the tab's
// title and favicon say "Ready! #12" until the guest acknowledges it.

export const SOUND_MUTED_KEY = "da.sound-muted";

type Store = Pick<Storage, "getItem" | "setItem" | "removeItem">;

function defaultStore(): Store | null {
  try {
    return globalThis.localStorage ?? null;
  } catch {
    return null;
  }
}

export function soundMuted(store: Store | null = defaultStore()): boolean {
  try {
    return store?.getItem(SOUND_MUTED_KEY) === "1";
  } catch {
    return false;
  }
}

export function setSoundMuted(muted: boolean, store: Store | null = defaultStore()): void {
  try {
    if (muted) store?.setItem(SOUND_MUTED_KEY, "1");
    else store?.removeItem(SOUND_MUTED_KEY);
  } catch {
    // storage disabled: the switch holds for this page only
  }
}

/** The ready chime: three rising notes, skipped when muted or before the first tap. */
export function readyChime(store: Store | null = defaultStore()): boolean {
  const ctx = context;
  if (soundMuted(store) || !ctx || ctx.state !== "running") return false;
  playNotes(ctx, [[0, 660], [0.18, 880], [0.36, 1320]], "triangle", 0.3, 0.3, 0.32);
  return true;
}

export function readyTitle(number: number): string {
  return t("ready.tab", { n: number });
}

/** A green dot with a check: the favicon while a drink waits at the bar. */
export const READY_FAVICON =
  "data:image/svg+xml," +
  encodeURIComponent(
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64"><circle cx="32" cy="32" r="30" fill="#22c55e"/>' +
      '<path d="M18 33l9 9 19-20" fill="none" stroke="#fff" stroke-width="7" stroke-linecap="round" stroke-linejoin="round"/></svg>',
  );

interface DocumentLike {
  title: string;
  querySelector: (selector: string) => { getAttribute(n: string): string | null; setAttribute(n: string, v: string): void } | null;
}

/** The tab's title and favicon while a ready moment is on; `clear` puts them back. */
export class TabAttention {
  private saved: { title: string; icon: string | null } | null = null;

  constructor(private readonly doc: DocumentLike | null = typeof document === "undefined" ? null : document) {}

  get showing(): boolean {
    return this.saved !== null;
  }

  show(number: number): void {
    const doc = this.doc;
    if (!doc) return;
    const icon = doc.querySelector('link[rel="icon"]');
    this.saved ??= { title: doc.title, icon: icon?.getAttribute("href") ?? null };
    doc.title = readyTitle(number);
    icon?.setAttribute("href", READY_FAVICON);
  }

  clear(): void {
    const doc = this.doc;
    if (!doc || !this.saved) return;
    doc.title = this.saved.title;
    const icon = doc.querySelector('link[rel="icon"]');
    if (icon && this.saved.icon !== null) icon.setAttribute("href", this.saved.icon);
    this.saved = null;
  }
}
