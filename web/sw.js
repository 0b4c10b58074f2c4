// backprop-viz's service worker: the whole site (the app, its wasm and
// MNIST) is kept in a cache after the first visit, so the page opens without
// a network afterwards, in a lecture hall with no Wi-Fi. web/build.sh names
// the cache after the build; a new build's worker drops the old cache.
//
// Nothing large is downloaded twice: the page puts each large file it
// fetches (the wasm, the model, MNIST) into this cache itself as it arrives
// (index.html's bpvKeep), so this worker never fetches them again; it only
// keeps the small files of the page at install, and anything of the site
// that passes through it.
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
const SMALL = ["./", "index.html", "manifest.json", "icon.png", "backprop_viz.js"];
const SITE_URLS = new Set(SITE.map((p) => new URL(p, self.registration.scope).href));

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(SMALL)));
  self.skipWaiting();
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((keys) => Promise.all(keys.filter((k) => k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
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
