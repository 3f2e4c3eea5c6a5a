import { describe, expect, it } from "vitest";
import { busiestHour, drinkBars, formatDuration, hourBars, hourLabel, niceMax, niceStep, scaleMax, ticks } from "../src/lib/stats";
import { chooseForDisplay, chosenJoinCode, DISPLAY_CODE_KEY, displayCode } from "../src/lib/display";
import { checkPhoto, uploadForm } from "../src/lib/upload";

describe("chart scales", () => {
  it("rounds the maximum up to a nice number", () => {
    expect(niceMax(0)).toBe(1);
    expect(niceMax(1)).toBe(1);
    expect(niceMax(3)).toBe(5);
    expect(niceMax(7)).toBe(10);
    expect(niceMax(14)).toBe(20);
    expect(niceMax(20)).toBe(20);
    expect(niceMax(51)).toBe(100);
  });

  it("draws whole-number gridlines up to the maximum", () => {
    expect(ticks(1)).toEqual([0, 1]);
    expect(ticks(10)).toEqual([0, 2, 4, 6, 8, 10]);
    expect(ticks(20)).toEqual([0, 5, 10, 15, 20]);
    expect(ticks(50)).toEqual([0, 10, 20, 30, 40, 50]); // not 0/13/26/39/50
    expect(ticks(13)).toEqual([0, 5, 10, 15]);
    expect(ticks(200)).toEqual([0, 50, 100, 150, 200]);
    expect(ticks(0)).toEqual([0, 1]);
  });

  it("steps by 1, 2 or 5 x 10^n only", () => {
    for (let max = 1; max <= 5000; max += 7) {
      const step = niceStep(max);
      const mantissa = step / 10 ** Math.floor(Math.log10(step));
      expect([1, 2, 5]).toContain(mantissa);
      const grid = ticks(max);
      expect(grid.length).toBeLessThanOrEqual(6 + 1);
      expect(grid[grid.length - 1]).toBeGreaterThanOrEqual(max);
      expect(grid.every((t, i) => t === i * step)).toBe(true);
    }
  });

  it("puts the scale's top on a gridline", () => {
    expect(scaleMax(0)).toBe(1);
    expect(scaleMax(7)).toBe(10);
    expect(scaleMax(43)).toBe(50);
    for (const value of [1, 3, 9, 14, 51, 260]) expect(ticks(scaleMax(value))).toContain(scaleMax(value));
  });

  it("says a prep time in minutes and seconds", () => {
    expect(formatDuration(null)).toBe("—");
    expect(formatDuration(45)).toBe("45 s");
    expect(formatDuration(240)).toBe("4 min");
    expect(formatDuration(250.4)).toBe("4 min 10 s");
    expect(formatDuration(3720)).toBe("1 h 2 min");
  });
});

describe("shaping /admin/stats", () => {
  const hours = [
    { hour: "2025-01-01T20:00:00Z", orders: 0 },
    { hour: "2025-01-01T21:00:00Z", orders: 7 },
    { hour: "2025-01-01T22:00:00Z", orders: 3 },
  ];

  it("labels hours in the viewer's zone", () => {
    expect(hourLabel("2025-01-01T21:00:00Z", "UTC")).toBe("21:00");
    expect(hourLabel("2025-01-01T21:00:00Z", "Europe/Berlin")).toBe("22:00");
    expect(hourLabel("garbage", "UTC")).toBe("?");
  });

  it("makes one bar per hour on a nice scale, with words for screen readers", () => {
    const { bars, max } = hourBars(hours, "UTC");
    expect(max).toBe(10);
    expect(bars.map((b) => [b.label, b.value, b.fraction])).toEqual([
      ["20:00", 0, 0],
      ["21:00", 7, 0.7],
      ["22:00", 3, 0.3],
    ]);
    expect(bars[1].description).toBe("21:00: 7 orders");
  });

  it("makes the top drinks bars", () => {
    const { bars, max } = drinkBars([
      { drink_id: "a", name: "Negroni", quantity: 4, orders: 3 },
      { drink_id: "b", name: "Spritz", quantity: 1, orders: 1 },
    ]);
    expect(max).toBe(5);
    expect(bars.map((b) => b.fraction)).toEqual([0.8, 0.2]);
    expect(bars[1].description).toBe("Spritz: 1 drink in 1 order");
  });

  it("finds the busiest hour, and none on a quiet night", () => {
    expect(busiestHour(hours, "UTC")).toEqual({ label: "21:00", orders: 7 });
    expect(busiestHour([{ hour: "2025-01-01T21:00:00Z", orders: 0 }], "UTC")).toBeNull();
    expect(hourBars([]).bars).toEqual([]);
  });
});

describe("the display's join code", () => {
  const code = (over: Record<string, unknown>) => ({
    code: "CODE",
    status: "active",
    qr_svg: "<svg/>",
    uses: 0,
    max_uses: 10,
    created_at: "2025-01-01T18:00:00Z",
    expires_at: "2999-01-01T00:00:00Z",
    ...over,
  });

  it("shows the invite the host chose, never one picked on its own", () => {
    const codes = [
      code({ code: "NEWEST1", created_at: "2025-01-01T19:00:00Z", max_uses: 1 }),
      code({ code: "REVOKED", status: "revoked", qr_svg: null }),
      code({ code: "FULL", uses: 10 }),
      code({ code: "OLD", expires_at: "2000-01-01T00:00:00Z" }),
      code({ code: "PARTY", created_at: "2025-01-01T18:00:00Z" }),
    ];
    expect(chosenJoinCode(codes, "party").code?.code).toBe("PARTY");
    expect(chosenJoinCode(codes, null)).toEqual({ code: null, problem: "none" });
    expect(chosenJoinCode(codes, "NOPE")).toEqual({ code: null, problem: "missing" });
    for (const bad of ["REVOKED", "FULL", "OLD"]) expect(chosenJoinCode(codes, bad).problem).toBe("unusable");
  });

  it("remembers the TV's choice from its link", () => {
    const store = new Map<string, string>();
    const kv = { getItem: (k: string) => store.get(k) ?? null, setItem: (k: string, v: string) => void store.set(k, v) };
    expect(displayCode(null, kv)).toBeNull();
    expect(displayCode("PARTY", kv)).toBe("PARTY");
    expect(displayCode("", kv)).toBe("PARTY"); // a reload without the parameter
    expect(chooseForDisplay("AB CD", kv)).toBe("/display?code=AB%20CD");
    expect(store.get(DISPLAY_CODE_KEY)).toBe("AB CD");
  });
});

describe("photo upload", () => {
  it("refuses other types, empty and large files before uploading", () => {
    expect(checkPhoto({ type: "image/png", size: 1000 })).toBe("");
    expect(checkPhoto({ type: "image/gif", size: 1000 })).toMatch(/JPEG, PNG or WebP/);
    expect(checkPhoto({ type: "image/jpeg", size: 0 })).toMatch(/empty/);
    expect(checkPhoto({ type: "image/webp", size: 6 * 1048576 })).toMatch(/6.0 MB; the limit is 5 MB/);
  });

  it("sends the signed fields first and the file last, named file", () => {
    const form = uploadForm({ key: "drink-images/x.png", policy: "p", "x-amz-signature": "s" }, new Blob(["png"]), "x.png");
    expect([...form.keys()]).toEqual(["key", "policy", "x-amz-signature", "file"]);
    expect((form.get("file") as File).name).toBe("x.png");
  });
});
