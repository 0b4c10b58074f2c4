// Profiles the browser's training (`window.bpv.bench_train`, as site.mjs's
// speed check runs it): its rate and where its time goes, by function.
// Not a test; a tool for the browser-against-native speed goal.
//
//   web/build.sh, then a copy of the site with the wasm's function names:
//   W=target/wasm32-unknown-unknown/web/backprop_viz.wasm
//   cp -r target/site /tmp/site-named
//   wasm-bindgen --target web --no-typescript --out-dir /tmp/named "$W"
//   cp /tmp/named/backprop_viz* /tmp/site-named/
//   SITE=/tmp/site-named PRESET=lenet node web/test/train-profile.mjs
import { launch, sleep, waitProbe } from "./probe.mjs";
import { spawn } from "node:child_process";
const PORT = 18998;
const SITE = process.env.SITE || "/tmp/site-named";
const server = spawn("python3", ["-m", "http.server", "--bind", "127.0.0.1", "-d", SITE, String(PORT)], { stdio: "ignore" });
await sleep(1500);
const browser = await launch();
const context = await browser.newContext({ viewport: { width: 1280, height: 720 } });
const page = await context.newPage();
await page.goto(`http://127.0.0.1:${PORT}/`);
await waitProbe(page, (p) => p.batch >= 1, "up");
const preset = process.env.PRESET || "lenet";
await page.evaluate((p) => window.bpv.bench_train(p, 1), preset);
const cdp = await context.newCDPSession(page);
await cdp.send("Profiler.enable");
await cdp.send("Profiler.setSamplingInterval", { interval: 100 });
await cdp.send("Profiler.start");
const rate = await page.evaluate((p) => window.bpv.bench_train(p, 3), preset);
const { profile } = await cdp.send("Profiler.stop");
console.log(preset, rate.toFixed(0));
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map(); for (const n of profile.nodes) for (const c of n.children || []) parent.set(c, n.id);
const self = new Map(), incl = new Map(); let total = 0;
profile.samples.forEach((id, i) => {
  const t = profile.timeDeltas[i] || 0; total += t;
  const nm = (n) => (byId.get(n).callFrame.functionName || "(anon)").replace(/::h[0-9a-f]{16}/, "");
  self.set(nm(id), (self.get(nm(id)) || 0) + t);
  const seen = new Set(); let c = id;
  while (c !== undefined) { const x = nm(c); if (!seen.has(x)) { seen.add(x); incl.set(x, (incl.get(x) || 0) + t); } c = parent.get(c); }
});
const top = (m, k) => [...m].sort((a, b) => b[1] - a[1]).slice(0, k).map(([n, t]) => `${(100 * t / total).toFixed(1).padStart(5)}%  ${n.slice(0, 120)}`).join("\n");
console.log("SELF\n" + top(self, 25));
console.log("INCLUSIVE\n" + top(incl, 40));
await browser.close(); server.kill();
