// The guest's words that are built in code (not templates) follow the language switch.
import { afterEach, describe, expect, it } from "vitest";
import { ApiError } from "../src/lib/api";
import { chatNotice, proposalLabel, suggestions } from "../src/lib/bartender";
import { setLocale } from "../src/lib/i18n";
import { ordinal, orderErrorMessage, queueText, statusLabel } from "../src/lib/ordering";
import { allergenLabels, avoidLabel, FLAVOURS, SPIRITS, STRENGTHS } from "../src/lib/taste";
import type { Order } from "../src/lib/types";

afterEach(() => setLocale("en", false));

const order = (fields: Partial<Order> = {}): Order => ({
  id: "o1",
  number: 12,
  status: "pending",
  items: [{ drink_id: "d1", name: "Margarita", quantity: 2, notes: "" }],
  notes: "",
  created_at: "2025-01-01T20:00:00Z",
  updated_at: "2025-01-01T20:00:00Z",
  ...fields,
});

describe("Swedish ordinals", () => {
  it("end in :a after 1 and 2 (not 11, 12) and :e otherwise", () => {
    const sv = [1, 2, 3, 4, 11, 12, 13, 21, 22, 23, 101, 111].map((n) => ordinal(n, "sv"));
    expect(sv).toEqual(["1:a", "2:a", "3:e", "4:e", "11:e", "12:e", "13:e", "21:a", "22:a", "23:e", "101:a", "111:e"]);
    expect([1, 2, 3, 11, 22].map((n) => ordinal(n))).toEqual(["1st", "2nd", "3rd", "11th", "22nd"]);
  });
});

describe("the order card in Swedish", () => {
  it("says the place in the queue and the wait", () => {
    setLocale("sv", false);
    expect(queueText(order({ queue_position: 1, estimated_wait_s: 180 }))).toBe("Näst på tur · cirka 3 min");
    expect(queueText(order({ queue_position: 3, estimated_wait_s: 500 }))).toBe("3:e i kön · cirka 8 min");
    expect(queueText(order({ queue_position: 2, estimated_wait_s: null }))).toBe("2:a i kön");
  });

  it("names every status", () => {
    setLocale("sv", false);
    const labels = (["pending", "in_progress", "ready", "completed", "cancelled"] as const).map(statusLabel);
    expect(labels).toEqual(["Mottagen", "Görs nu", "Klar att hämta!", "Hämtad", "Avbruten"]);
    setLocale("en", false);
    expect(statusLabel("ready")).toBe("Ready!");
  });

  it("explains a refused order", () => {
    setLocale("sv", false);
    expect(orderErrorMessage(new ApiError(409, "BarClosed", "Tillbaka kl 21"))).toMatchObject({
      title: "Baren är stängd just nu",
      detail: "Värden säger: ”Tillbaka kl 21”",
    });
    expect(orderErrorMessage(new ApiError(409, "DrinkUnavailable", "Aviation is not available right now")).detail).toBe(
      "Tyvärr, Aviation finns inte just nu. Välj något annat från menyn.",
    );
    expect(orderErrorMessage(new ApiError(0, "NetworkError", "")).title).toBe("Ingen anslutning");
  });
});

describe("the taste quiz's chips", () => {
  it("read in the language of the moment (labels are looked up when shown)", () => {
    const sweet = FLAVOURS.find((f) => f.key === "sweet")!;
    expect(sweet.label).toBe("Sweet");
    setLocale("sv", false);
    expect(sweet.label).toBe("Söt");
    expect(SPIRITS.find((s) => s.key === "rum")?.label).toBe("Rom");
    expect(STRENGTHS.map((s) => s.label)).toEqual(["Lätt", "Mellan", "Stark"]);
    expect(allergenLabels(["tree_nuts", "egg", "dairy"])).toEqual(["Ägg", "Mjölk", "Nötter"]);
    expect(avoidLabel("non_vegan", [])).toBe("Animaliska produkter");
    expect(avoidLabel("campari", ["Campari"])).toBe("Campari"); // the host's spelling stays
  });
});

describe("the bartender in Swedish", () => {
  it("proposes, suggests and explains in Swedish", () => {
    setLocale("sv", false);
    const drinks = [
      { id: "a", name: "Mojito" },
      { id: "b", name: "Negroni" },
    ];
    const two = { items: [{ drink_id: "a", quantity: 1, notes: "" }, { drink_id: "b", quantity: 2, notes: "" }] };
    expect(proposalLabel(two, drinks)).toBe("Beställ 1 × Mojito och 2 × Negroni");
    expect(suggestions()).toContain("Något alkoholfritt, tack");
    expect(chatNotice(new ApiError(429, "TooManyRequests", "")).text).toBe("Ta det lugnt en stund, försök igen om 30 s.");
    expect(chatNotice(new ApiError(409, "BartenderOff", "off")).text).toContain("Bartendern är ledig i kväll");
  });
});
