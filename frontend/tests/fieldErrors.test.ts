import { describe, expect, it } from "vitest";
import { fieldErrors, humanMessage } from "../src/lib/fieldErrors";

const FIELDS = { name: "name", ingredients: "ingredients", recipe_steps: "steps", section_id: "section" };

describe("human form messages", () => {
  it("maps the API's validator wording to each field, in plain words", () => {
    const errors = fieldErrors(
      "name: String should have at least 1 character; ingredients: List should have at least 1 item after validation, not 0",
      FIELDS,
    );
    expect(errors).toEqual({ name: "Please fill this in.", ingredients: "Add at least one." });
  });

  it("maps nested and renamed fields, keeping the first message per field", () => {
    const errors = fieldErrors(
      "ingredients.0.name: String should have at most 80 characters; ingredients.1.amount: Input should be a valid number; recipe_steps.2: Field required",
      FIELDS,
    );
    expect(errors).toEqual({ ingredients: "Keep it to 80 characters or fewer.", steps: "Please fill this in." });
  });

  it("puts what names no known field in a form-level message without validator wording", () => {
    const errors = fieldErrors("colour: Extra inputs are not permitted", FIELDS);
    expect(Object.keys(errors)).toEqual([""]);
    expect(errors[""]).not.toMatch(/Extra inputs|String should|List should/);
    expect(fieldErrors("section_id: Input should be a valid UUID, invalid length", FIELDS)).toEqual({
      section: "Choose one from the list.",
    });
  });

  it("says limits and numbers plainly", () => {
    expect(humanMessage("Input should be greater than or equal to 1")).toBe("Use 1 or more.");
    expect(humanMessage("Input should be less than or equal to 500")).toBe("Use 500 or less.");
    expect(humanMessage("Value error, abv must be between 0 and 100")).toBe("Abv must be between 0 and 100.");
    expect(humanMessage("drink id must be a UUID")).toBe("Choose one from the list.");
  });
});
