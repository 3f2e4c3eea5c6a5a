/* The guest app's service worker (docs/web-app.md, "Installable, offline menu").
 *
 * - The app shell (index.html and the scripts and styles it loads) is cached at install
 *   and refreshed whenever the network answers; hashed /assets/* are cache-first.
 * - The public menu (GET {apiUrl}/drinks, /sections, /ingredients, /bar, no query, no
 *   Authorization header) and /config.json are network-first: the last answer is kept
 *   and used only when the network fails.
 * - Never cached: anything with an Authorization header (guest or admin tokens), every
 *   other method than GET, the admin console, the display, sign-in and its callback,
 *   uploads, realtime, and any request made by an admin or display page.
 */
const VERSION = "v1";
const SHELL = `da-shell-${VERSION}`;
const MENU = `da-menu-${VERSION}`;
const IMAGES = `da-images-${VERSION}`;
const KEEP = [SHELL, MENU, IMAGES];
// The public menu reads; never /admin/... or /me/... (those carry tokens anyway).
const MENU_PATH = /^(?!.*\/(admin|me)\/).*\/(drinks|sections|ingredients|bar)$/;
const PRIVATE_PAGES = /^\/(admin|display|auth)(\/|$)/;
const NEVER = /^\/(admin|display|auth|oauth2|logout|\.well-known|event|storage)(\/|$)/;
const STATIC_FILES = ["/manifest.webmanifest", "/favicon.svg", "/icon-192.png", "/icon-512.png"];
const NETWORK_WAIT_MS = 4000;

async function precache() {
  const shell = await caches.open(SHELL);
  const page = await fetch("/", { cache: "no-cache" });
  if (!page.ok) return;
  const html = await page.clone().text();
  await shell.put("/", page);
  const assets = [...html.matchAll(/(?:src|href)="(\/assets\/[^"]+)"/g)].map((m) => m[1]);
  await Promise.all(
    [...new Set([...assets, ...STATIC_FILES])].map((url) =>
      fetch(url).then((r) => (r.ok ? shell.put(url, r) : undefined), () => undefined),
    ),
  );
  // The menu as it is now, so the first visit is already enough to browse it offline.
  const configResponse = await fetch("/config.json", { cache: "no-store" }).catch(() => null);
  if (!configResponse?.ok) return;
  const config = await configResponse.clone().json();
  await (await caches.open(MENU)).put("/config.json", configResponse);
  const apiUrl = String(config.apiUrl || "/api").replace(/\/+$/, "");
  const headers = config.apiKey ? { "x-api-key": String(config.apiKey) } : {};
  const menu = await caches.open(MENU);
  await Promise.all(
    ["/drinks", "/sections", "/ingredients", "/bar"].map((path) =>
      fetch(new Request(new URL(apiUrl + path, self.location.origin), { headers })).then(
        (r) => (r.ok ? menu.put(r.url, r) : undefined),
        () => undefined,
      ),
    ),
  );
}

self.addEventListener("install", (event) => {
  event.waitUntil(precache().catch(() => undefined).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((names) => Promise.all(names.filter((n) => n.startsWith("da-") && !KEEP.includes(n)).map((n) => caches.delete(n))))
      .then(() => self.clients.claim()),
  );
});

function timeout(ms) {
  return new Promise((_, reject) => setTimeout(() => reject(new Error("network timeout")), ms));
}

/** The network's answer (kept in `cacheName` under `key` when it is a 200), else the kept one. */
async function networkFirst(request, cacheName, key, waitMs) {
  const cache = await caches.open(cacheName);
  try {
    const network = fetch(request);
    const response = await (waitMs ? Promise.race([network, timeout(waitMs)]) : network);
    if (response.ok && response.type !== "opaque") await cache.put(key, response.clone());
    return response;
  } catch (error) {
    const kept = await cache.match(key, { ignoreVary: true, ignoreSearch: false });
    if (kept) return kept;
    throw error;
  }
}

async function cacheFirst(request) {
  const cache = await caches.open(SHELL);
  const kept = await cache.match(request, { ignoreVary: true });
  if (kept) return kept;
  const response = await fetch(request);
  if (response.ok) await cache.put(request, response.clone());
  return response;
}

async function fromPrivatePage(event) {
  if (!event.clientId) return false;
  const client = await self.clients.get(event.clientId);
  return !!client && PRIVATE_PAGES.test(new URL(client.url).pathname);
}

async function handle(event) {
  const { request } = event;
  const url = new URL(request.url);
  const sameOrigin = url.origin === self.location.origin;
  if (request.mode === "navigate") {
    // Every guest route is the same index.html (client routing): one cached copy.
    return networkFirst(request, SHELL, "/", 0);
  }
  if (await fromPrivatePage(event)) return fetch(request);
  if (sameOrigin && url.pathname.startsWith("/assets/")) return cacheFirst(request);
  if (sameOrigin && url.pathname === "/config.json") return networkFirst(request, MENU, "/config.json", NETWORK_WAIT_MS);
  if (!url.search && MENU_PATH.test(url.pathname)) return networkFirst(request, MENU, url.href, NETWORK_WAIT_MS);
  if (sameOrigin && url.pathname.startsWith("/images/")) return networkFirst(request, IMAGES, url.href, 0);
  if (sameOrigin && STATIC_FILES.includes(url.pathname)) return networkFirst(request, SHELL, url.pathname, 0);
  return fetch(request);
}

self.addEventListener("fetch", (event) => {
  const { request } = event;
  if (request.method !== "GET" || request.headers.has("authorization")) return; // the network's, untouched
  const url = new URL(request.url);
  if (url.origin === self.location.origin && NEVER.test(url.pathname) && request.mode !== "navigate") return;
  if (request.mode === "navigate" && NEVER.test(url.pathname)) return; // admin pages are never kept
  if (url.origin !== self.location.origin && !MENU_PATH.test(url.pathname)) return;
  event.respondWith(handle(event));
});
