/**
 * The API's precise 400 messages ("name: String should have at least 1 character;
 * ingredients: List should have at least 1 item after validation, not 0") turned into
 * short, human messages per form field, so people never read validator wording. The
 * API keeps its messages as they are (other clients and the logs want them).
 */

export type FieldErrors = Record<string, string>;

/** One validator message in plain words (its limits kept: "at most 80 characters"). */
export function humanMessage(message: string): string {
  const text = message.replace(/^Value error,\s*/i, "").trim();
  let m: RegExpMatchArray | null;
  if (/^Field required$/i.test(text) || /at least 1 character/i.test(text)) return "Please fill this in.";
  if ((m = text.match(/^String should have at most (\d+) characters?/i))) return `Keep it to ${m[1]} characters or fewer.`;
  if ((m = text.match(/^String should have at least (\d+) characters?/i))) return `Use at least ${m[1]} characters.`;
  if (/^List should have at least 1 item/i.test(text)) return "Add at least one.";
  if ((m = text.match(/^List should have at most (\d+) items?/i))) return `At most ${m[1]}, please.`;
  if ((m = text.match(/^Input should be greater than or equal to ([\d.]+)/i))) return `Use ${m[1]} or more.`;
  if ((m = text.match(/^Input should be greater than ([\d.]+)/i))) return `Use more than ${m[1]}.`;
  if ((m = text.match(/^Input should be less than or equal to ([\d.]+)/i))) return `Use ${m[1]} or less.`;
  if ((m = text.match(/^Input should be less than ([\d.]+)/i))) return `Use less than ${m[1]}.`;
  if (/valid (integer|number)|parse (string|number) as/i.test(text)) return "Enter a number.";
  if (/valid UUID|must be a UUID/i.test(text)) return "Choose one from the list.";
  if (/^Input should be /i.test(text)) return "Choose one of the offered values.";
  if (/String should match pattern|should match/i.test(text)) return "Use letters, digits and spaces only.";
  if (/^Extra inputs are not permitted/i.test(text)) return "This form is out of date: reload the page.";
  // A message of our own (a model validator's, "abv must be ..."): already words; first letter up.
  return text ? text.charAt(0).toUpperCase() + text.slice(1).replace(/([^.!?])$/, "$1.") : "Check this field.";
}

/**
 * Split a 400 message into fields: `fields` maps the API's top-level names to the
 * form's ("recipe_steps" -> "steps"); a part naming no known field goes to "" (the
 * form-level message). The first message per field wins.
 */
export function fieldErrors(message: string, fields: Record<string, string> = {}): FieldErrors {
  const out: FieldErrors = {};
  for (const part of message.split(/;\s+/)) {
    const match = part.match(/^([A-Za-z_][\w.]*):\s+(.*)$/s);
    const top = match ? match[1].split(".")[0] : "";
    const field = match && (top in fields ? fields[top] : Object.values(fields).includes(top) ? top : null);
    const key = field ?? "";
    const human = match && field !== null ? humanMessage(match[2]) : humanMessage(part);
    if (!(key in out)) out[key] = key ? human : formMessage(part);
  }
  return out;
}

/** What a message naming no field says to a person. */
export function formMessage(message: string): string {
  if (/^(body|expected a JSON object|the body is not valid JSON|the JSON body)/i.test(message) || /: /.test(message)) {
    return "Something in the form is not right: check the fields and try again.";
  }
  return humanMessage(message);
}
