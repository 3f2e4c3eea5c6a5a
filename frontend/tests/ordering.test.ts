import { describe, expect, it } from "vitest";
import { ApiError } from "../src/lib/api";
import { OrderAttempt, orderErrorMessage, progressStep } from "../src/lib/ordering";

describe("orderErrorMessage", () => {
  it("has a friendly text for each refusal of the contract", () => {
    const closed = orderErrorMessage(new ApiError(409, "BarClosed", "Back at 9pm"));
    expect(closed.title).toBe("The bar is closed right now");
    expect(closed.detail).toContain("Back at 9pm");
    expect(orderErrorMessage(new ApiError(409, "BarClosed", "the bar is closed")).detail).not.toContain("says");
    expect(orderErrorMessage(new ApiError(409, "QueueFull", "x"))).toMatchObject({ title: "The bar is swamped", retry: true });
    expect(orderErrorMessage(new ApiError(409, "TooManyActiveOrders", "x"))).toMatchObject({
      title: "You have drinks on the way",
      retry: false,
    });
    const gone = orderErrorMessage(new ApiError(409, "DrinkUnavailable", "Aviation is not available right now"));
    expect(gone.detail).toContain("Aviation is not available");
    expect(orderErrorMessage(new ApiError(409, "DrinkUnavailable", "drink 123 is not on the menu")).detail).toContain(
      "no longer on the menu",
    );
  });

  it("offers a retry for what may pass, not for what will not", () => {
    expect(orderErrorMessage(new ApiError(0, "NetworkError", "")).retry).toBe(true);
    expect(orderErrorMessage(new ApiError(503, "ServiceUnavailableError", "")).retry).toBe(true);
    expect(orderErrorMessage(new ApiError(400, "BadRequestError", "items: too long"))).toMatchObject({
      retry: false,
      detail: "items: too long",
    });
    expect(orderErrorMessage(new Error("boom")).retry).toBe(true);
  });
});

describe("OrderAttempt", () => {
  const items = [{ drink_id: "d1", quantity: 1, notes: "" }];

  it("reuses the key for a retry of the same order", () => {
    const attempt = new OrderAttempt();
    const key = attempt.keyFor(items);
    expect(attempt.keyFor(items)).toBe(key);
  });

  it("makes a new key when the order changes or was settled", () => {
    const attempt = new OrderAttempt();
    const key = attempt.keyFor(items);
    const changed = attempt.keyFor([{ ...items[0], quantity: 2 }]);
    expect(changed).not.toBe(key);
    attempt.settle();
    expect(attempt.keyFor([{ ...items[0], quantity: 2 }])).not.toBe(changed);
  });
});

it("progress steps follow the order's life", () => {
  expect(["pending", "in_progress", "ready", "cancelled"].map((s) => progressStep(s as never))).toEqual([1, 2, 3, 0]);
});
