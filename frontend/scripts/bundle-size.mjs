// The guest bundle: the JavaScript a phone loads for the menu (the entry script and
// what index.html preloads), gzipped. Lazy chunks (admin console, bar display) are
// listed apart. Fails when the guest bundle is over the budget.
import { readFileSync, readdirSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { join } from "node:path";

const BUDGET_KB = 100;
const dist = new URL("../dist/", import.meta.url).pathname;
const html = readFileSync(join(dist, "index.html"), "utf8");
const guest = new Set(
  [...html.matchAll(/<(?:script[^>]*\ssrc|link[^>]*rel="modulepreload"[^>]*\shref)="\/?([^"]+\.js)"/g)].map((m) => m[1]),
);
const size = (file) => gzipSync(readFileSync(join(dist, file)), { level: 9 }).length;
const kb = (bytes) => (bytes / 1024).toFixed(1);

let total = 0;
console.log("guest bundle (loaded by the menu):");
for (const file of guest) {
  const bytes = size(file);
  total += bytes;
  console.log(`  ${file.padEnd(40)} ${kb(bytes).padStart(7)} KB gzip`);
}
console.log(`  total ${" ".repeat(34)}${kb(total).padStart(7)} KB gzip (budget ${BUDGET_KB} KB)`);
const lazy = readdirSync(join(dist, "assets")).filter((f) => f.endsWith(".js") && !guest.has(`assets/${f}`));
if (lazy.length) {
  console.log("lazy chunks (admin, display; not loaded by guests):");
  for (const file of lazy) console.log(`  assets/${file.padEnd(33)} ${kb(size(join("assets", file))).padStart(7)} KB gzip`);
}
if (total > BUDGET_KB * 1024) {
  console.error(`the guest bundle is ${kb(total)} KB gzip, over the ${BUDGET_KB} KB budget`);
  process.exit(1);
}
