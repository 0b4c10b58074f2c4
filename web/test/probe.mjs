// What the page tests share: Debian's Chromium launched headless, the
// page's #probe (the step on screen as JSON, written by src/web.rs) and
// waiting on it.

import { chromium } from "playwright-core";

const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";

/** Chromium for the tests: software WebGL, nothing fetched of its own;
 * `extra` flags added. */
export function launch(extra = []) {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--no-sandbox",
      "--use-angle=swiftshader",
      "--enable-unsafe-swiftshader",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
      "--disable-quic",
      ...extra,
    ],
  });
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** The step on screen, as the page's #probe holds it. */
export async function probe(page) {
  const text = await page.locator("#probe").textContent();
  return text ? JSON.parse(text) : null;
}

/** Waits until `test` holds for the probe; the error says what it held. */
export async function waitProbe(page, test, what, timeout = 120000) {
  const start = Date.now();
  while (Date.now() - start < timeout) {
    const p = await probe(page).catch(() => null);
    if (p && test(p)) return p;
    await sleep(100);
  }
  const p = await probe(page).catch(() => null);
  const said = p && { batch: p.batch, phase: p.phase, message: p.message, class: p.class };
  throw new Error(`timed out waiting for ${what}; the probe says ${JSON.stringify(said)?.slice(0, 600)}`);
}
