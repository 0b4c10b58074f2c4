// Profiles the page while it trains: where the main thread's time goes
// (self and inclusive, by function) and the six slowest frames. Not a test;
// a tool for the frame-time check in site.mjs.
//
//   web/build.sh, then a copy of the site with the wasm's function names:
//   W=target/wasm32-unknown-unknown/web/backprop_viz.wasm
//   cp -r target/site /tmp/site-named
//   wasm-bindgen --target web --no-typescript --out-dir /tmp/named "$W"
//   cp /tmp/named/backprop_viz* /tmp/site-named/
//   SITE=/tmp/site-named node web/test/profile.mjs
import { chromium } from "playwright-core";
import { spawn } from "node:child_process";
import fs from "node:fs";
const SITE = process.env.SITE || "/work/main/target/site";
const PORT = 18999;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const server = spawn("python3", ["-m", "http.server", "--bind", "127.0.0.1", "-d", SITE, String(PORT)], { stdio: "ignore" });
await sleep(1000);
const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: ["--no-sandbox", "--use-angle=swiftshader", "--enable-unsafe-swiftshader", "--no-first-run"] });
const context = await browser.newContext({ viewport: { width: 1280, height: 720 } });
const page = await context.newPage();
await page.goto(`http://127.0.0.1:${PORT}/` + (process.env.HASH || ""));
for (let i = 0; i < 600; i++) { const t = await page.locator("#probe").textContent(); if (t && JSON.parse(t).batch >= 1) break; await sleep(100); }
await sleep(8000);
await page.mouse.click(640, 700);
await page.keyboard.press("r");
await sleep(1500);
const cdp = await context.newCDPSession(page);
await cdp.send("Profiler.enable");
await cdp.send("Profiler.setSamplingInterval", { interval: 200 });
await cdp.send("Profiler.start");
await sleep(4000);
const { profile } = await cdp.send("Profiler.stop");
const work = await page.evaluate(() => Array.from(window.bpvFrames).slice(-60));
work.sort((a, b) => a - b);
console.log("work median", work[30], "p95", work[57], "max", work[59]);
// self time per function
const self = new Map(); const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const dt = profile.timeDeltas; const counts = new Map();
profile.samples.forEach((id, i) => counts.set(id, (counts.get(id) || 0) + (dt[i] || 0)));
// inclusive: compute parent map
const parent = new Map(); for (const n of profile.nodes) for (const c of n.children || []) parent.set(c, n.id);
const incl = new Map();
for (const [id, t] of counts) {
  const n = byId.get(id); const name = n.callFrame.functionName || n.callFrame.url.split("/").pop() || "(anon)";
  self.set(name, (self.get(name) || 0) + t);
  const seen = new Set(); let cur = id;
  while (cur !== undefined) { const nm = byId.get(cur).callFrame.functionName || "(anon)"; if (!seen.has(nm)) { seen.add(nm); incl.set(nm, (incl.get(nm) || 0) + t); } cur = parent.get(cur); }
}
const top = (m, k) => [...m].sort((a, b) => b[1] - a[1]).slice(0, k).map(([n, t]) => `${(t / 1000).toFixed(0).padStart(6)} ms  ${n.slice(0, 110)}`).join("\n");
console.log("SELF\n" + top(self, 35));
console.log("INCLUSIVE\n" + top(incl, 70));

// Per-invocation: split the sample stream at idle samples.
const isIdle = (id) => { const n = byId.get(id).callFrame.functionName; return n === "(idle)"; };
const runs = []; let cur = null;
profile.samples.forEach((id, i) => {
  const t = dt[i] || 0;
  if (isIdle(id)) { if (cur) { runs.push(cur); cur = null; } return; }
  if (!cur) cur = { total: 0, names: new Map(), self: new Map() };
  cur.total += t;
  { const nm = byId.get(id).callFrame.functionName || "(anon)"; cur.self.set(nm, (cur.self.get(nm) || 0) + t); }
  const seen = new Set(); let c = id;
  while (c !== undefined) { const nm = byId.get(c).callFrame.functionName || "(anon)"; if (!seen.has(nm)) { seen.add(nm); cur.names.set(nm, (cur.names.get(nm) || 0) + t); } c = parent.get(c); }
});
runs.sort((a, b) => b.total - a.total);
for (const r of runs.slice(0, 6)) {
  console.log("RUN", (r.total / 1000).toFixed(1), "ms  SELF: " + [...r.self].sort((a, b) => b[1] - a[1]).slice(0, 6).map(([n, t]) => `${(t / 1000).toFixed(1)} ${n.replace(/::h[0-9a-f]{16}/, "").slice(-50)}`).join(" | "));
  console.log([...r.names].filter(([n]) => /backprop_viz|save|paint|tessel|galley|gc|garbage|logic|bufferData|texImage|texSub|set_texture|run_ui|end_pass/.test(n)).sort((a, b) => b[1] - a[1]).slice(0, 22).map(([n, t]) => `   ${(t / 1000).toFixed(1).padStart(6)}  ${n.replace(/::h[0-9a-f]{16}/, "").slice(0, 120)}`).join("\n"));
}
await browser.close(); server.kill();
