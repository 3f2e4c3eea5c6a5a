import { describe, expect, it } from "vitest";
import { busiestHour, drinkBars, hourBars, hourLabel, niceMax, ticks } from "../src/lib/stats";
import { newestJoinCode } from "../src/lib/display";
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
    expect(ticks(10)).toEqual([0, 3, 6, 9, 10]);
    expect(ticks(20)).toEqual([0, 5, 10, 15, 20]);
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
    status: "active",
    qr_svg: "<svg/>",
    uses: 0,
    max_uses: 10,
    created_at: "2025-01-01T18:00:00Z",
    expires_at: "2999-01-01T00:00:00Z",
    ...over,
  });

  it("shows the newest code still usable", () => {
    const picked = newestJoinCode([
      code({ created_at: "2025-01-01T19:00:00Z", status: "revoked", qr_svg: null }),
      code({ created_at: "2025-01-01T18:30:00Z", uses: 10 }),
      code({ created_at: "2025-01-01T18:20:00Z", expires_at: "2000-01-01T00:00:00Z" }),
      code({ created_at: "2025-01-01T18:10:00Z", note: "this one" }),
      code({ created_at: "2025-01-01T18:00:00Z" }),
    ]);
    expect(picked?.created_at).toBe("2025-01-01T18:10:00Z");
    expect(newestJoinCode([])).toBeNull();
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
