// backprop-viz's service worker: the whole site (the app, its wasm and
// MNIST) is cached at the first visit, so the page opens without a network
// afterwards, in a lecture hall with no Wi-Fi. web/build.sh names the cache
// after the build; a new build's worker drops the old cache.
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

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(SITE)));
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
// new worker); anything not cached goes to the network.
self.addEventListener("fetch", (event) => {
  if (event.request.method !== "GET") return;
  const url = new URL(event.request.url);
  url.hash = "";
  event.respondWith(
    caches.match(url.href, { ignoreSearch: true }).then((hit) => hit || fetch(event.request)),
  );
});
