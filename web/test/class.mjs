// A live class in headless Chromium: a real `backprop-viz class` server,
// one teacher page (1280x720) and two student pages (a phone, 390x844, and
// a laptop, 1280x720), and what the issue asks of the loop:
//
// - all three pages join (the teacher by the teacher's link);
// - the teacher steps by hand (Space) to a covered backward step: the
//   question reaches both students, who follow the teacher's moment (the
//   same batch and phase) and see it covered by the same question;
// - the students answer (digit keys, Space sends), the server acknowledges,
//   the teacher's tally counts them by option;
// - T shows the room's answers on the teacher's page (the histogram, both
//   rounds once there are two);
// - D opens round 2 everywhere; a changed answer goes to round 2's tally,
//   round 1's stays as it was;
// - V reveals: each student's answer marked against the teacher's truth;
// - a question answered by clicking the map (pool-winner or relu-blocked):
//   the students click cells of the map, send, and the teacher's page shows
//   the clicks as discs on the real map;
// - no console errors, no panics.
//
// The teacher's page is in projector mode (P), as a lecture hall shows it.
// It also takes the README's screenshots of a class (the projector's
// histogram and click heatmap, a phone's question).
//
//   node web/test/class.mjs            (after web/build.sh and cargo build --release)
//
// Environment: BPV_BIN (the native program, default target/release/backprop-viz),
// BPV_SHOTS (where screenshots go, default docs/screenshots), CHROMIUM
// (default /usr/bin/chromium).

import { launch, probe, sleep, waitProbe } from "./probe.mjs";
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const SITE = path.join(ROOT, "target/site");
const BIN = process.env.BPV_BIN || path.join(ROOT, "target/release/backprop-viz");
const SHOTS = process.env.BPV_SHOTS || path.join(ROOT, "docs/screenshots");

const failures = [];
function check(ok, what) {
  console.log(`${ok ? "ok  " : "FAIL"} ${what}`);
  if (!ok) failures.push(what);
}

const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);

/** Starts `backprop-viz class` on a free port of 127.0.0.1; resolves with
 * the child and the JSON line it prints. */
function startClass(db) {
  const child = spawn(BIN, ["class", "--bind", "127.0.0.1", "--port", "0", "--db", db, "--site", SITE], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stderr.setEncoding("utf8");
  child.stderr.on("data", (text) => process.stderr.write(`[class] ${text}`));
  return new Promise((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => reject(new Error(`the class server printed no line: ${out}`)), 30000);
    child.stdout.setEncoding("utf8");
    child.stdout.on("data", (text) => {
      out += text;
      const line = out.split("\n").find((l, i, all) => i < all.length - 1 && l.trim());
      if (line) {
        clearTimeout(timer);
        try {
          resolve({ child, info: JSON.parse(line) });
        } catch (e) {
          reject(new Error(`the class server's line is not JSON: ${line}`));
        }
      }
    });
    child.on("exit", (code) => reject(new Error(`the class server exited (${code}): ${out}`)));
  });
}

/** `waitProbe`, the error returned instead of thrown (for a check line). */
const tryProbe = (...args) => waitProbe(...args).catch((e) => e);
const failed = (x) => x instanceof Error;

/** A key to the app (egui reads keys from its canvas: focus it first). */
async function key(page, name) {
  await page.evaluate(() => document.getElementById("app").focus());
  await page.keyboard.press(name);
}

function watchConsole(page, who, errors) {
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(`${who}: ${m.text()}`);
  });
  page.on("pageerror", (e) => errors.push(`${who}: ${e}`));
}

/** A layer of the probe by the name in `phase` ("backward:NAME"). */
const layerOf = (p, phase = p.phase) => p.layers.find((l) => `backward:${l.name}` === phase);

/** The right option of a `below-shape` question: the shape of one sample's
 * delta handed down (the layer's delta, `[N, ...]`), as the wire writes it. */
function shapeTruth(teacher) {
  const layer = layerOf(teacher);
  return layer && layer.delta_shape ? layer.delta_shape.slice(1).join("x") : null;
}

/** Presses Space on the teacher's page once and waits for what it did: a
 * phase stepped, or a covered step revealed. */
async function teacherSpace(teacher) {
  const before = await probe(teacher);
  await key(teacher, "Space");
  const after = await waitProbe(
    teacher,
    (p) => p.phase !== before.phase || p.batch !== before.batch || p.class?.prediction?.revealed !== before.class?.prediction?.revealed,
    "the teacher's Space",
    20000,
  );
  // A covered step opens its question in the class on the next pass.
  if (after.class?.prediction?.covering) {
    return waitProbe(teacher, (p) => p.class.question && p.class.question.round === 1 && !p.class.revealed, "the teacher's question", 20000);
  }
  await sleep(200);
  return probe(teacher);
}

/** A question open on the teacher's page and waiting for answers. */
const openQuestion = (p) => p.class?.question && p.class.question.round >= 1 && !p.class.revealed && p.class.prediction?.covering;

/** A student's page once it has the teacher's question `q` on screen,
 * covering the teacher's step. */
function onQuestion(q, teacher) {
  return (p) =>
    p.class?.question?.question === q.question &&
    p.class.question.round === q.round &&
    p.class.prediction?.covering === true &&
    p.batch === teacher.batch &&
    p.phase === teacher.phase;
}

async function main() {
  if (!fs.existsSync(path.join(SITE, "index.html"))) throw new Error("no target/site: run web/build.sh first");
  if (!fs.existsSync(BIN)) throw new Error(`no ${BIN}: run cargo build --release first`);
  fs.mkdirSync(SHOTS, { recursive: true });
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "bpv-class-"));
  const { child: server, info } = await startClass(path.join(tmp, "class.sqlite"));
  console.log(`     class ${info.code} at ${info.url}`);
  const browser = await launch([
    // Three pages at once, each in its own window: none is throttled as
    // a background one.
    "--disable-background-timer-throttling",
    "--disable-renderer-backgrounding",
    "--disable-backgrounding-occluded-windows",
  ]);
  const errors = [];
  try {
    // (No service worker: its caching fetches the site again beside three
    // pages on two cores, and a class is not about working offline.)
    const open = async (who, options, url) => {
      const context = await browser.newContext({ serviceWorkers: "block", ...options });
      const page = await context.newPage();
      watchConsole(page, who, errors);
      await page.goto(url);
      return page;
    };
    const teacher = await open("teacher", { viewport: { width: 1280, height: 720 } }, info.teacher_url);
    const phone = await open(
      "phone",
      { viewport: { width: 390, height: 844 }, deviceScaleFactor: 1, isMobile: false, hasTouch: false },
      info.url,
    );
    const laptop = await open("laptop", { viewport: { width: 1280, height: 720 } }, info.url);
    const students = [
      ["phone", phone],
      ["laptop", laptop],
    ];

    // 1. All three join, once MNIST's training set is in.
    for (const [who, page, role] of [["teacher", teacher, "teacher"], ...students.map(([w, p]) => [w, p, "student"])]) {
      const joined = await tryProbe(page, (p) => p.class?.joined, `the ${who} to join`, 180000);
      check(!failed(joined) && joined.class.role === role && joined.class.code === info.code,
        `the ${who}'s page joins class ${info.code} as the ${role} (${failed(joined) ? joined.message : `role ${joined.class.role}, training set ${joined.training_set}`})`);
    }

    // The teacher's page is the one on the projector: projector mode (P).
    await key(teacher, "p");
    await sleep(500);

    // 2. The teacher steps by hand until a step is covered by a question.
    let t = await probe(teacher);
    for (let i = 0; i < 40 && !openQuestion(t); i++) t = await teacherSpace(teacher);
    const q1 = t.class.question;
    check(openQuestion(t) && q1.kind === "below-shape" && q1.options.length >= 2,
      `the teacher's Space reaches a covered step with a question: ${q1?.kind} at ${t.phase}, batch ${t.batch}, options ${JSON.stringify(q1?.options)}`);
    check(t.class.prediction?.kinds?.[0] === q1.kind, `the teacher's own step is covered by that question (kinds ${JSON.stringify(t.class.prediction?.kinds)})`);
    for (const [who, page] of students) {
      const s = await tryProbe(page, onQuestion(q1, t), `the ${who} on the question`, 60000);
      check(!failed(s) && same(s.class.prediction.kinds, [q1.kind]) && same(s.class.question, q1),
        `the ${who} follows to batch ${t.batch}, ${t.phase} and gets the same question ${q1.question}, covering the step (${failed(s) ? s.message : `kinds ${JSON.stringify(s.class.prediction.kinds)}`})`);
    }

    // 3. The students answer: the phone option 1, the laptop option 2.
    const truth = shapeTruth(t);
    const answers = [q1.options[0], q1.options[1]];
    for (const [k, [who, page]] of students.entries()) {
      await key(page, String(k + 1));
      const chose = await tryProbe(page, (p) => p.class.prediction?.answered, `the ${who}'s choice`, 15000);
      await key(page, "Space");
      const acked = await tryProbe(page, (p) => p.class.acked[0] === true, `the ${who}'s ack`, 20000);
      check(!failed(chose) && !failed(acked) && same(acked.class.sent[0], answers[k]),
        `the ${who} answers ${JSON.stringify(answers[k])} (key ${k + 1}, then Space): sent and acknowledged (${failed(acked) ? acked.message : `sent ${JSON.stringify(acked.class.sent)}`})`);
    }
    const tally1 = await tryProbe(teacher, (p) => p.class.tallies[0]?.answered === 2, "the teacher's tally of round 1", 20000);
    const counts1 = failed(tally1) ? null : tally1.class.tallies[0];
    check(counts1 && counts1.question === q1.question && counts1.round === 1 &&
      counts1.options[answers[0]] === 1 && counts1.options[answers[1]] === 1 &&
      Object.values(counts1.options).reduce((a, b) => a + b, 0) === 2,
      `the teacher's tally of round 1: ${counts1 ? `${counts1.answered} of ${counts1.students} answered, ${JSON.stringify(counts1.options)}` : tally1.message}`);

    // 4. T shows the room's answers on the teacher's page.
    await key(teacher, "t");
    const shown = await tryProbe(teacher, (p) => p.class.show_tally, "T", 10000);
    check(!failed(shown), "T on the teacher's page shows the room's answers");

    // 5. D: round 2 everywhere. Both students vote again; one changes the
    //    answer so that, once revealed, one of them is right and the other
    //    not (when the options allow it).
    await key(teacher, "d");
    for (const [who, page] of [["teacher", teacher], ...students]) {
      const r2 = await tryProbe(page, (p) => p.class.question?.question === q1.question && p.class.question.round === 2, `round 2 on the ${who}'s page`, 20000);
      check(!failed(r2), `D opens round 2 on the ${who}'s page${failed(r2) ? ": " + r2.message : ""}`);
    }
    let final = [...answers];
    let changer = 1;
    search: for (const who of [1, 0]) {
      for (const o of q1.options) {
        const trial = [...answers];
        trial[who] = o;
        if (o !== answers[who] && trial.filter((a) => a === truth).length === 1) {
          final = trial;
          changer = who;
          break search;
        }
      }
    }
    if (same(final, answers)) final[1] = q1.options.find((o) => o !== answers[1]);
    for (const [k, [who, page]] of students.entries()) {
      if (k === changer) await key(page, String(q1.options.indexOf(final[k]) + 1));
      await sleep(300);
      await key(page, "Space");
      const acked = await tryProbe(page, (p) => p.class.acked[1] === true, `the ${who}'s ack in round 2`, 20000);
      check(!failed(acked) && same(acked.class.sent[1], final[k]) && same(acked.class.sent[0], answers[k]),
        `the ${who} votes again: ${k === changer ? "changes to" : "keeps"} ${JSON.stringify(final[k])}, acknowledged in round 2 (${failed(acked) ? acked.message : `sent ${JSON.stringify(acked.class.sent)}`})`);
    }
    const tally2 = await tryProbe(teacher, (p) => p.class.tallies[1]?.answered === 2, "the teacher's tally of round 2", 20000);
    if (failed(tally2)) {
      check(false, `the teacher's tally of round 2: ${tally2.message}`);
    } else {
      const [r1, r2] = tally2.class.tallies;
      const want = Object.fromEntries(q1.options.map((o) => [o, final.filter((a) => a === o).length]));
      check(r2.round === 2 && q1.options.every((o) => (r2.options[o] ?? 0) === want[o]),
        `the teacher's tally of round 2 has the change: ${JSON.stringify(r2.options)}`);
      check(same(r1, counts1), `round 1's tally is unchanged: ${JSON.stringify(r1.options)}`);
    }
    // The room's answers, both rounds side by side (still shown since T).
    const both = await tryProbe(teacher, (p) => p.class.show_tally && p.class.tallies[1]?.answered === 2, "both rounds shown", 10000);
    check(!failed(both), "the teacher's page shows both rounds' answers");
    await sleep(1000);
    await teacher.screenshot({ path: path.join(SHOTS, "class-projector-options.png") });

    // 6. V reveals: every page has the answer; each student's marked.
    await key(teacher, "v");
    const revealedT = await tryProbe(teacher, (p) => p.class.revealed != null, "the teacher's reveal", 20000);
    check(!failed(revealedT) && same(revealedT.class.revealed, truth),
      `V reveals ${JSON.stringify(revealedT.class?.revealed)} on the teacher's page (the shape handed down at ${t.phase}: ${truth})`);
    const marksSeen = [];
    for (const [k, [who, page]] of students.entries()) {
      const r = await tryProbe(page, (p) => p.class.revealed != null && p.class.prediction?.revealed, `the reveal on the ${who}'s page`, 20000);
      const right = final[k] === truth;
      const ok = !failed(r) && same(r.class.revealed, revealedT.class?.revealed) && same(r.class.prediction.marks, [right]);
      if (!failed(r)) marksSeen.push(r.class.prediction.marks[0]);
      check(ok, `the ${who}'s page shows the reveal: answered ${JSON.stringify(final[k])}, marked ${failed(r) ? r.message : JSON.stringify(r.class.prediction.marks)} (expected [${right}])`);
    }
    check(marksSeen.filter((m) => m === true).length === 1 && marksSeen.filter((m) => m === false).length === 1,
      `one student right, one not (${JSON.stringify(marksSeen)})`);

    // 7. On to a question answered by clicking the map.
    t = await probe(teacher);
    const cellKinds = ["pool-winner", "relu-blocked"];
    for (let i = 0; i < 40 && !(openQuestion(t) && cellKinds.includes(t.class.question.kind)); i++) {
      t = await teacherSpace(teacher);
    }
    const q2 = t.class.question;
    check(openQuestion(t) && cellKinds.includes(q2.kind) && q2.options.length === 0,
      `the teacher steps on to a question answered on the map: ${q2?.kind} at ${t.phase} (options ${JSON.stringify(q2?.options)})`);
    // The map: the layer's input, [N, C, H, W] (its delta handed down).
    const input = layerOf(t)?.delta_shape;
    const [rows, cols] = input ? input.slice(2) : [0, 0];
    // A pooling window's side: its input over its output (the delta from above).
    const names = t.layers.map((l) => l.name);
    const above = t.layers[names.indexOf(layerOf(t)?.name) + 1]?.delta_shape;
    const side = q2.kind === "pool-winner" && above?.length === 4 ? Math.round(rows / above[2]) : 1;
    console.log(`     the map: ${rows}x${cols}${q2.kind === "pool-winner" ? `, windows of ${side}x${side}` : ""}`);
    const clicked = [];
    for (const [k, [who, page]] of students.entries()) {
      const s = await tryProbe(page, (p) => onQuestion(q2, t)(p) && p.class.map, `the ${who} on the map question`, 60000);
      if (failed(s)) {
        check(false, `the ${who} gets the map question: ${s.message}`);
        continue;
      }
      check(same(s.class.prediction.kinds, [q2.kind]) && !s.class.prediction.answered,
        `the ${who} follows to ${t.phase} and gets ${q2.kind} ${q2.question}, the map at ${s.class.map.map((v) => v.toFixed(0)).join(",")} (CSS px)`);
      if (who === "phone") {
        const [x0, y0, x1, y1] = s.class.map;
        check(x0 >= 0 && y0 >= 0 && x1 <= 390 && y1 <= 844,
          `the phone's map is on its 390x844 screen, ${(x1 - x0).toFixed(0)}x${(y1 - y0).toFixed(0)} px (${(((x1 - x0) / cols)).toFixed(1)} px a cell)`);
        await sleep(800);
        await page.screenshot({ path: path.join(SHOTS, "class-phone-question.png") });
      }
      // Click cells until the question takes one (a pooling question only
      // takes a cell of its window): the first student the windows' first
      // cells, the second the cell beside the first's.
      const [x0, y0, x1, y1] = s.class.map;
      const at = (r, c) => [x0 + ((c + 0.5) * (x1 - x0)) / cols, y0 + ((r + 0.5) * (y1 - y0)) / rows];
      let candidates = [];
      if (clicked.length) {
        const [r, c] = clicked[0];
        candidates = [[r, c + 1 < cols && (q2.kind !== "pool-winner" || (c + 1) % side) ? c + 1 : c - 1]];
      } else if (q2.kind === "pool-winner") {
        // The windows from the middle out: the question's window is often
        // where the digit is.
        for (let i = 0; i < rows / side; i++) for (let j = 0; j < cols / side; j++) candidates.push([i * side, j * side]);
        const mid = [rows / 2, cols / 2];
        candidates.sort((a, b) => Math.hypot(a[0] - mid[0], a[1] - mid[1]) - Math.hypot(b[0] - mid[0], b[1] - mid[1]));
      } else {
        candidates = [[Math.floor(rows / 2), Math.floor(cols / 2)]];
      }
      let answered = null;
      for (const [r, c] of candidates) {
        const [x, y] = at(r, c);
        await page.mouse.click(x, y);
        answered = await waitProbe(page, (p) => p.class.prediction?.answered, "a cell taken", 1500).catch(() => null);
        if (answered) {
          clicked.push([r, c]);
          break;
        }
      }
      check(answered !== null, `the ${who} clicks cell ${JSON.stringify(clicked[k] ?? null)} of the map: the answer is taken`);
      await key(page, "Space");
      const acked = await tryProbe(page, (p) => p.class.acked[0] === true, `the ${who}'s ack`, 20000);
      check(!failed(acked) && Array.isArray(acked.class.sent[0]) && acked.class.sent[0].length >= 1,
        `the ${who} sends it: ${failed(acked) ? acked.message : `${JSON.stringify(acked.class.sent[0])}, acknowledged`}`);
    }
    await key(teacher, "t");
    const heat = await tryProbe(teacher, (p) => p.class.show_tally && p.class.tallies[0]?.answered === 2, "the teacher's heatmap", 20000);
    if (failed(heat)) {
      check(false, `the teacher's tally of the clicks: ${heat.message}`);
    } else {
      const cells = heat.class.tallies[0].cells;
      const want = clicked.map(([r, c]) => [r, c]);
      const got = cells.map(([, y, x, n]) => [y, x, n]);
      check(cells.length === clicked.length && want.every(([r, c]) => got.some(([y, x, n]) => y === r && x === c && n === 1)),
        `T shows the room's clicks on the teacher's map: cells ${JSON.stringify(cells)} (clicked ${JSON.stringify(want)})`);
      check(heat.class.map != null, `the teacher's page draws the map (at ${heat.class.map?.map((v) => v.toFixed(0)).join(",")})`);
    }
    await sleep(1000);
    await teacher.screenshot({ path: path.join(SHOTS, "class-projector-heatmap.png") });
    for (const [who, page] of [["teacher", teacher], ...students]) {
      const p = await probe(page);
      check(p.class.error == null && p.class.joined && p.class.down == null,
        `the ${who} is still joined, with no error from the server${p.class.error ? ` ("${p.class.error}")` : ""}`);
    }
  } finally {
    await browser.close();
    server.kill("SIGTERM");
  }
  const bad = errors.filter((e) => /panicked|RuntimeError/.test(e));
  check(bad.length === 0, `no panics${bad.length ? ": " + bad.slice(0, 3).join(" | ") : ""}`);
  check(errors.length === 0, `no console errors${errors.length ? ": " + errors.slice(0, 5).join(" | ") : ""}`);
  if (failures.length) {
    console.log(`${failures.length} check(s) failed`);
    process.exit(1);
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
