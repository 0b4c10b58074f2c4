// backprop-viz's service worker: the whole site (the app, its wasm and
// MNIST) is kept in a cache after the first visit, so the page opens without
// a network afterwards, in a lecture hall with no Wi-Fi. web/build.sh names
// the cache after the build; a new build's worker drops the old cache.
//
// Nothing is downloaded twice: the page has already fetched the wasm (and
// fetches MNIST) when this worker installs, so the worker never fetches the
// site itself. It keeps what passes through it once it controls the page,
// and when the page says it has everything ("complete"), it copies the rest
// from the browser's HTTP cache (`force-cache`), not from the network.
const CACHE = "backprop-viz-@BUILD@";
const SITE = [
  "./",
  "index.html",
  "manifest.json",
  "icon.png",
  "pretrained.safetensors",
  "backprop_viz.js",
  "backprop_viz_bg.wasm",
  "data/mnist/t10k-images-idx3-ubyte.gz",
  "data/mnist/t10k-labels-idx1-ubyte.gz",
  "data/mnist/train-images-idx3-ubyte.gz",
  "data/mnist/train-labels-idx1-ubyte.gz",
];
const SITE_URLS = new Set(SITE.map((p) => new URL(p, self.registration.scope).href));

self.addEventListener("install", () => self.skipWaiting());

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((keys) => Promise.all(keys.filter((k) => k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});

/** Every file of the site not cached yet, copied from the HTTP cache. */
async function complete() {
  const cache = await caches.open(CACHE);
  for (const href of SITE_URLS) {
    if (await cache.match(href)) continue;
    try {
      const response = await fetch(new Request(href, { cache: "force-cache" }));
      if (response.ok) await cache.put(href, response);
    } catch {
      // Offline before the site was complete: the next visit completes it.
    }
  }
}

self.addEventListener("message", (event) => {
  if (event.data !== "complete") return;
  event.waitUntil(complete().then(() => event.source && event.source.postMessage("cached")));
});

// The cache first (the site only changes with a new build, which brings a
// new worker); anything not cached goes to the network, and the site's own
// files are kept on their way through.
self.addEventListener("fetch", (event) => {
  if (event.request.method !== "GET") return;
  const url = new URL(event.request.url);
  url.hash = "";
  url.search = "";
  const key = url.href;
  event.respondWith(
    (async () => {
      const hit = await caches.match(key);
      if (hit) return hit;
      const response = await fetch(event.request);
      if (response.ok && SITE_URLS.has(key)) {
        const copy = response.clone();
        event.waitUntil(caches.open(CACHE).then((cache) => cache.put(key, copy)));
      }
      return response;
    })(),
  );
});
