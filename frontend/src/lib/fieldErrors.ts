/**
 * The API's precise 400 messages ("name: String should have at least 1 character;
 * ingredients: List should have at least 1 item after validation, not 0") turned into
 * short, human messages per form field, so people never read validator wording. The
 * API keeps its messages as they are (other clients and the logs want them).
 */

export type FieldErrors = Record<string, string>;

/** The plain sentences, in English; an admin or guest dictionary may word them otherwise. */
export const HUMAN = {
  required: "Please fill this in.",
  maxChars: "Keep it to {n} characters or fewer.",
  minChars: "Use at least {n} characters.",
  addOne: "Add at least one.",
  maxItems: "At most {n}, please.",
  atLeast: "Use {n} or more.",
  moreThan: "Use more than {n}.",
  atMost: "Use {n} or less.",
  lessThan: "Use less than {n}.",
  number: "Enter a number.",
  choose: "Choose one from the list.",
  offered: "Choose one of the offered values.",
  pattern: "Use letters, digits and spaces only.",
  stale: "This form is out of date: reload the page.",
  check: "Check this field.",
  form: "Something in the form is not right: check the fields and try again.",
} as const;
export type HumanKey = keyof typeof HUMAN;

/** Words for a sentence key ("maxChars", {n: 80}); the default is English. */
export type Words = (key: HumanKey, params: Record<string, string>) => string;

export const english: Words = (key, params) => HUMAN[key].replace(/\{(\w+)\}/g, (whole, name: string) => params[name] ?? whole);

/**
 * Which plain sentence a validator message is ("String should have at most 80
 * characters" -> maxChars, n 80), or null for a message of our own (already words).
 */
export function humanKey(message: string): [HumanKey, Record<string, string>] | null {
  const text = message.replace(/^Value error,\s*/i, "").trim();
  let m: RegExpMatchArray | null;
  if (/^Field required$/i.test(text) || /at least 1 character/i.test(text)) return ["required", {}];
  if ((m = text.match(/^String should have at most (\d+) characters?/i))) return ["maxChars", { n: m[1] }];
  if ((m = text.match(/^String should have at least (\d+) characters?/i))) return ["minChars", { n: m[1] }];
  if (/^List should have at least 1 item/i.test(text)) return ["addOne", {}];
  if ((m = text.match(/^List should have at most (\d+) items?/i))) return ["maxItems", { n: m[1] }];
  if ((m = text.match(/^Input should be greater than or equal to ([\d.]+)/i))) return ["atLeast", { n: m[1] }];
  if ((m = text.match(/^Input should be greater than ([\d.]+)/i))) return ["moreThan", { n: m[1] }];
  if ((m = text.match(/^Input should be less than or equal to ([\d.]+)/i))) return ["atMost", { n: m[1] }];
  if ((m = text.match(/^Input should be less than ([\d.]+)/i))) return ["lessThan", { n: m[1] }];
  if (/valid (integer|number)|parse (string|number) as/i.test(text)) return ["number", {}];
  if (/valid UUID|must be a UUID/i.test(text)) return ["choose", {}];
  if (/^Input should be /i.test(text)) return ["offered", {}];
  if (/String should match pattern|should match/i.test(text)) return ["pattern", {}];
  if (/^Extra inputs are not permitted/i.test(text)) return ["stale", {}];
  if (!text) return ["check", {}];
  return null;
}

/** One validator message in plain words (its limits kept: "at most 80 characters"). */
export function humanMessage(message: string, words: Words = english): string {
  const found = humanKey(message);
  if (found) return words(found[0], found[1]);
  // A message of our own (a model validator's, "abv must be ..."): already words; first letter up.
  const text = message.replace(/^Value error,\s*/i, "").trim();
  return text.charAt(0).toUpperCase() + text.slice(1).replace(/([^.!?])$/, "$1.");
}

/**
 * Split a 400 message into fields: `fields` maps the API's top-level names to the
 * form's ("recipe_steps" -> "steps"); a part naming no known field goes to "" (the
 * form-level message). The first message per field wins.
 */
export function fieldErrors(message: string, fields: Record<string, string> = {}, words: Words = english): FieldErrors {
  const out: FieldErrors = {};
  for (const part of message.split(/;\s+/)) {
    const match = part.match(/^([A-Za-z_][\w.]*):\s+(.*)$/s);
    const top = match ? match[1].split(".")[0] : "";
    const field = match && (top in fields ? fields[top] : Object.values(fields).includes(top) ? top : null);
    const key = field ?? "";
    const human = match && field !== null ? humanMessage(match[2], words) : humanMessage(part, words);
    if (!(key in out)) out[key] = key ? human : formMessage(part, words);
  }
  return out;
}

/** What a message naming no field says to a person. */
export function formMessage(message: string, words: Words = english): string {
  if (/^(body|expected a JSON object|the body is not valid JSON|the JSON body)/i.test(message) || /: /.test(message)) {
    return words("form", {});
  }
  return humanMessage(message, words);
}
