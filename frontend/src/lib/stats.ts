/**
 * Tonight's numbers (GET /admin/stats) shaped for small hand-drawn SVG charts: bars
 * with heights on a "nice" scale, hour labels in the viewer's time zone, and a few
 * round gridline values. No chart library: the console stays light.
 */

export interface HourCount {
  hour: string;
  orders: number;
}

export interface TopDrink {
  drink_id: string;
  name: string;
  quantity: number;
  orders: number;
}

export interface Stats {
  since: string;
  until: string;
  total_orders: number;
  cancelled_orders: number;
  orders_per_hour: HourCount[];
  top_drinks: TopDrink[];
  /** Average seconds from "in_progress" (or "pending") to "ready"; null with no ready orders. */
  avg_prep_seconds: number | null;
  prep_orders: number;
}

export interface Bar {
  label: string;
  value: number;
  /** 0..1 of the scale's maximum. */
  fraction: number;
  /** What a screen reader hears for this bar. */
  description: string;
}

/** The smallest "nice" number (1, 2, 5 x 10^n) at or above `value`; at least 1. */
export function niceMax(value: number): number {
  if (!Number.isFinite(value) || value <= 1) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 5, 10]) if (step * power >= value) return step * power;
  return 10 * power;
}

/** The smallest step of 1, 2 or 5 x 10^n (a whole number, at least 1) that splits
 * `max` into at most `count` parts. */
export function niceStep(max: number, count = 5): number {
  if (!Number.isFinite(max) || max <= 0) return 1;
  const raw = max / Math.max(1, count);
  const power = 10 ** Math.floor(Math.log10(raw));
  for (const step of [1, 2, 5, 10]) if (step * power >= raw) return Math.max(1, step * power);
  return Math.max(1, 10 * power);
}

/** Gridline values from 0 in nice steps (0/10/20/30/40/50, never 0/13/26/39/50), the
 * last at or above `max`; whole numbers only, at most `count` + 1 lines. */
export function ticks(max: number, count = 5): number[] {
  const top = Number.isFinite(max) ? Math.max(1, max) : 1;
  const step = niceStep(top, count);
  const out: number[] = [];
  for (let v = 0; v < top + step; v += step) out.push(v);
  return out;
}

/** The top of a chart's scale: a nice maximum that is also its last gridline. */
export function scaleMax(value: number): number {
  const grid = ticks(niceMax(value));
  return grid[grid.length - 1] ?? 1;
}

/** Seconds as "4 min 10 s", "45 s", "1 h 2 min"; "—" when there is none. */
export function formatDuration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return "—";
  const total = Math.max(0, Math.round(seconds));
  if (total < 60) return `${total} s`;
  const minutes = Math.floor(total / 60);
  if (minutes < 60) return total % 60 ? `${minutes} min ${total % 60} s` : `${minutes} min`;
  const m = minutes % 60;
  return m ? `${Math.floor(minutes / 60)} h ${m} min` : `${Math.floor(minutes / 60)} h`;
}

/** "21:00" in the viewer's zone (or the one given, for tests). */
export function hourLabel(iso: string, timeZone?: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return "?";
  return new Intl.DateTimeFormat("en-GB", { hour: "2-digit", minute: "2-digit", hour12: false, timeZone }).format(date);
}

export function hourBars(hours: HourCount[], timeZone?: string): { bars: Bar[]; max: number } {
  const max = scaleMax(Math.max(0, ...hours.map((h) => h.orders)));
  const bars = hours.map((h) => {
    const label = hourLabel(h.hour, timeZone);
    return {
      label,
      value: h.orders,
      fraction: h.orders / max,
      description: `${label}: ${h.orders} order${h.orders === 1 ? "" : "s"}`,
    };
  });
  return { bars, max };
}

export function drinkBars(drinks: TopDrink[]): { bars: Bar[]; max: number } {
  const max = scaleMax(Math.max(0, ...drinks.map((d) => d.quantity)));
  const bars = drinks.map((d) => ({
    label: d.name,
    value: d.quantity,
    fraction: d.quantity / max,
    description: `${d.name}: ${d.quantity} drink${d.quantity === 1 ? "" : "s"} in ${d.orders} order${d.orders === 1 ? "" : "s"}`,
  }));
  return { bars, max };
}

/** The busiest hour, for a one-line summary ("busiest: 22:00, 14 orders"); null on a quiet night. */
export function busiestHour(hours: HourCount[], timeZone?: string): { label: string; orders: number } | null {
  const top = hours.reduce<HourCount | null>((best, h) => (h.orders > (best?.orders ?? 0) ? h : best), null);
  return top ? { label: hourLabel(top.hour, timeZone), orders: top.orders } : null;
}
