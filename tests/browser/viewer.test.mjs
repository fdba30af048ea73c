// Opens pages written by the real `faultline` binary in Debian's chromium and checks them:
// no script errors, no network, one arrow per delivered message, stepping with the keys.
//
// usage: node viewer.test.mjs FAULTLINE_BINARY OUT_DIR
// Called by tests/browser.rs; OUT_DIR receives the pages, traces and screenshots.
import { chromium } from 'playwright-core';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import assert from 'node:assert/strict';

const [binary, outDir] = process.argv.slice(2);
assert.ok(binary && outDir, 'usage: node viewer.test.mjs FAULTLINE_BINARY OUT_DIR');
const root = resolve(new URL('../..', import.meta.url).pathname);
const BROWSER = '/usr/bin/chromium';
const ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

function faultline(args) {
  const r = spawnSync(binary, args, { cwd: root, encoding: 'utf8' });
  assert.ok(r.status === 0 || r.status === 1, `faultline ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return r;
}

function traceLines(path) {
  return readFileSync(path, 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l));
}

// Opens `page` (an HTML file) and returns the page with its collected problems.
async function open(context, htmlPath) {
  const page = await context.newPage();
  const problems = [];
  page.on('console', (m) => { if (m.type() === 'error') problems.push('console error: ' + m.text()); });
  page.on('pageerror', (e) => problems.push('page error: ' + e.message));
  await page.route('**/*', (route) => {
    const url = route.request().url();
    if (url.startsWith('file://')) return route.continue();
    problems.push('network request: ' + url);
    return route.abort();
  });
  await page.goto(pathToFileURL(htmlPath).href);
  await page.waitForSelector('body[data-ready="1"]', { timeout: 30000 });
  return { page, problems };
}

const details = (page) => page.$eval('#details', (d) => ({ index: d.dataset.index, kind: d.dataset.kind, text: d.textContent }));

async function checkScenarioPage(context) {
  const html = join(outDir, 'figure8.html');
  const trace = join(outDir, 'figure8.jsonl');
  faultline(['run', 'scenarios/raft-figure8-bug.yaml', '--html', html, '--trace', trace, '--states']);
  const events = traceLines(trace).filter((r) => typeof r.i === 'number');
  const deliveries = events.filter((r) => r.kind === 'deliver').length;
  assert.ok(deliveries > 100, `the scenario delivers messages (${deliveries})`);

  const { page, problems } = await open(context, html);
  await page.setViewportSize({ width: 1400, height: 800 });
  const stats = await page.evaluate(() => window.faultlineViewer.stats());
  assert.equal(stats.events, events.length, 'every trace event is in the page');
  assert.equal(stats.arrows, deliveries, 'one message arrow per deliver line');
  await page.evaluate(() => window.faultlineViewer.fit());
  const fitted = await page.evaluate(() => window.faultlineViewer.stats());
  assert.equal(fitted.drawnArrows, deliveries, 'zoomed out fully, every arrow is drawn');
  assert.equal(fitted.aggregatedArrows, 0, 'and drawn one by one: fewer than 1.5 per pixel');
  assert.ok(fitted.violations >= 1, 'the violation is marked');

  await page.focus('#canvas');
  for (let k = 0; k < 3; k++) await page.keyboard.press('ArrowRight');
  let d = await details(page);
  assert.equal(d.index, String(events[2].i), 'three steps right select event #2');
  assert.equal(d.kind, events[2].kind);
  await page.keyboard.press('j');
  await page.keyboard.press('k');
  await page.keyboard.press('ArrowLeft');
  d = await details(page);
  assert.equal(d.index, String(events[1].i), 'j, k, ← come back to event #1');
  const firstDeliver = events.find((e) => e.kind === 'deliver');
  await page.evaluate((i) => window.faultlineViewer.select(i), firstDeliver.i);
  d = await details(page);
  assert.equal(d.kind, 'deliver');
  assert.ok(d.text.includes('State before') && d.text.includes('State after'), 'a deliver shows the node state before and after');
  // The page keeps states as changes; every handler's states rebuild exactly as the trace
  // file has them whole.
  const withStates = events.filter((e) => e.state_after !== undefined);
  assert.ok(withStates.length > 100, `the trace has states (${withStates.length})`);
  const rebuilt = await page.evaluate((is) => is.map((i) => window.faultlineViewer.state(i)), withStates.map((e) => e.i));
  withStates.forEach((e, j) => {
    assert.deepEqual(rebuilt[j], { before: e.state_before, after: e.state_after }, `the states of event #${e.i}`);
  });
  const pageBytes = statSync(html).size;
  const traceBytes = statSync(trace).size;
  assert.ok(pageBytes * 2 < traceBytes, `the page (${pageBytes} B) is far smaller than the trace with whole states (${traceBytes} B)`);
  await page.keyboard.press('End');
  d = await details(page);
  assert.equal(d.index, String(events[events.length - 1].i), 'End selects the last event');
  await page.keyboard.press('v');
  // Zoomed in step by step to at most 150 arrows in view, the arrows are labelled.
  const zoomed = await page.evaluate(() => {
    const v = window.faultlineViewer;
    v.fit();
    for (let k = 0; k < 30 && v.stats().drawnArrows > 150; k++) v.zoom(0.8);
    return v.stats();
  });
  assert.ok(zoomed.drawnArrows > 0 && zoomed.labelledArrows === zoomed.drawnArrows, `zoomed in, the arrows are labelled (${zoomed.labelledArrows} of ${zoomed.drawnArrows})`);
  assert.equal(fitted.labelledArrows, 0, 'zoomed out, no arrow is labelled');
  await page.screenshot({ path: join(outDir, 'figure8-labels.png') });
  await page.evaluate(() => window.faultlineViewer.zoom(0.05));
  await page.screenshot({ path: join(outDir, 'figure8.png') });
  await page.evaluate(() => window.faultlineViewer.fit());
  await page.screenshot({ path: join(outDir, 'figure8-fit.png') });
  // The explanation's chain of links and long words wrap inside the side panel.
  const panel = await page.evaluate(() => {
    const aside = document.querySelector('aside');
    return { scroll: aside.scrollWidth, client: aside.clientWidth, links: document.querySelectorAll('.chain a').length };
  });
  assert.ok(panel.links > 5, `the explanation has a chain of links (${panel.links})`);
  assert.ok(panel.scroll <= panel.client, `the side panel does not scroll sideways (${panel.scroll} > ${panel.client})`);
  assert.deepEqual(problems, [], 'no script errors and no network');
  await page.close();
  return { events: events.length, deliveries };
}

async function checkExplainedTrace(context) {
  const html = join(outDir, 'explained.html');
  const r = spawnSync(binary, ['viz', 'tests/viz/explained.jsonl', '-o', html], { cwd: root, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const { page, problems } = await open(context, html);
  const stats = await page.evaluate(() => window.faultlineViewer.stats());
  assert.equal(stats.violations, 1);
  assert.equal(stats.explanations, 1);
  assert.equal(stats.chain, 3);
  const panel = await page.$eval('#explanations', (e) => e.textContent);
  assert.ok(panel.includes('two leaders in term 2'), 'the violation message is shown');
  assert.ok(panel.includes('n1 won term 2 with votes from n2'), 'the explanation text is shown');
  await page.focus('#canvas');
  await page.keyboard.press('v');
  const d = await details(page);
  assert.equal(d.index, '9', '`v` selects the event of the violation');
  await page.screenshot({ path: join(outDir, 'explained.png') });
  assert.deepEqual(problems, [], 'no script errors and no network');
  await page.close();
}

// The op the checker names is the op the page numbers so: in the violation panel, on the client
// bar (the page's own numbering), and in the tooltip and side panel of its events.
async function checkOpNumbers(context) {
  const html = join(outDir, 'stale-read.html');
  const r = faultline(['run', 'scenarios/quorum-kv-weak-stale-read.yaml', '--html', html, '--format', 'json']);
  const v = JSON.parse(r.stdout).violations[0];
  const bad = v.ops[0];
  const named = `op ${bad.op} (client c${bad.client})`;
  // The checker's sentence goes on inside the parenthesis: `op 1 (client c0, process 0: ...)`.
  assert.ok(v.message.startsWith(named.slice(0, -1) + ','), v.message);
  const { page, problems } = await open(context, html);
  const panel = await page.$eval('#explanations', (e) => e.textContent);
  assert.ok(panel.includes(named.slice(0, -1) + ','), 'the violation panel names the op: ' + panel);
  assert.ok(panel.includes(named), 'the explanation\'s headline names the op: ' + panel);
  assert.ok(panel.includes(`client c${bad.client} invoked op ${bad.op},`), 'the explanation names it the same way');
  const ops = await page.evaluate(() => window.faultlineViewer.ops());
  const mine = ops.find((o) => o.client === bad.client && o.seq === bad.seq);
  assert.equal(mine.op, bad.op, 'the page numbers the client bar as the report does');
  assert.ok(ops.every((o, j) => o.op === j), 'bars are numbered in invocation order');
  const tip = await page.evaluate((i) => window.faultlineViewer.summary(i), mine.invoke);
  assert.ok(tip.includes(named), 'the tooltip names the op: ' + tip);
  await page.evaluate((i) => window.faultlineViewer.select(i), mine.invoke);
  const d = await details(page);
  assert.ok(d.text.includes(named), 'the side panel names the op: ' + d.text);
  // The blamed read is flagged, the write it was concurrent with named beside it, and each bar
  // speaks: the op's function, arguments and result.
  assert.equal(mine.named, 0, 'the blamed op is flagged');
  const other = ops.find((o) => o.op === v.ops[1].op);
  assert.equal(other.named, 1, 'the op beside it is named too');
  assert.ok(ops.filter((o) => o.named < 0).length > 0, 'ops the violation does not name are not flagged');
  assert.equal(mine.label, `op ${bad.op} read(0) → nil`, mine.label);
  assert.ok(other.label.startsWith(`op ${other.op} write(0, `), other.label);
  assert.ok(tip.includes('(the op the violation blames)'), tip);
  const pixel = await page.evaluate(() => window.faultlineViewer.opPixel(1));
  // Red, not the green of an ok op (edges blend with the selection outline around it).
  assert.ok(pixel[0] > 150 && pixel[1] < 90 && pixel[2] < 90, 'the blamed bar is drawn red: ' + pixel);
  // `v` selects the violation; zooming in with keys and the button keeps it in the middle.
  await page.evaluate(() => window.faultlineViewer.fit());
  await page.keyboard.press('v');
  for (let z = 0; z < 3; z++) await page.keyboard.press('+');
  await page.click('#zoomin');
  const [a, b] = await page.evaluate(() => window.faultlineViewer.view());
  const at = v.time_ns;
  assert.ok(a <= at && at <= b, `the violation at ${at} stays in view [${a}, ${b}] after zooming in`);
  assert.ok(Math.abs((a + b) / 2 - at) < (b - a) * 0.05, 'and near the middle');
  await page.evaluate(() => window.faultlineViewer.zoom(0.02));
  await page.screenshot({ path: join(outDir, 'stale-read.png') });
  assert.deepEqual(problems, [], 'no script errors and no network');
  await page.close();
}

// The state strip: each node's role, fields and last log entries under its lane; in the
// Figure 8 run that goes on past the election, n3's committed entries of term 1 are replaced
// by n5's of term 3, and the page flags them.
async function checkStrip(context) {
  const html = join(outDir, 'strip.html');
  faultline(['run', 'scenarios/raft-figure8-bug.yaml', '--html', html]);
  let { page, problems } = await open(context, html);
  await page.setViewportSize({ width: 1600, height: 1000 });
  await page.evaluate(() => window.faultlineViewer.fit());
  const strip = await page.evaluate(() => window.faultlineViewer.strip());
  assert.ok(strip.heightPx > 0 && strip.rows >= 5, 'every lane draws rows of log cells: ' + JSON.stringify(strip));
  const n1 = await page.evaluate(() => window.faultlineViewer.summaries('n1'));
  assert.ok(n1.length > 10, 'n1 has summaries');
  const led = n1.filter((s) => s.standing === 'leader').pop();
  assert.equal(led.fields[0][0], 'term');
  const dark = await page.evaluate((i) => window.faultlineViewer.bandPixel('n1', i), led.event);
  assert.ok(Math.max(...dark) < 80, 'a leader\'s band is dark: ' + dark);
  const n2 = await page.evaluate(() => window.faultlineViewer.summaries('n2'));
  const last = n2[n2.length - 1];
  assert.notEqual(last.standing, 'leader');
  const light = await page.evaluate((i) => window.faultlineViewer.bandPixel('n2', i), last.event);
  assert.ok(Math.max(...light) > 180, 'a follower\'s or candidate\'s band is light: ' + light);
  await page.screenshot({ path: join(outDir, 'strip-figure8.png') });
  assert.deepEqual(problems, [], 'no script errors and no network');
  await page.close();

  const overwriteHtml = join(outDir, 'strip-overwrite.html');
  faultline(['run', 'scenarios/raft-figure8-overwrite-bug.yaml', '--html', overwriteHtml]);
  ({ page, problems } = await open(context, overwriteHtml));
  await page.setViewportSize({ width: 1600, height: 1000 });
  const overwrites = await page.evaluate(() => window.faultlineViewer.overwrites());
  const at103 = overwrites.find((o) => o.node === 'n3' && o.index === 103);
  assert.ok(at103, 'n3\'s entry 103 is flagged overwritten: ' + JSON.stringify(overwrites));
  assert.equal(at103.was, '1');
  assert.equal(at103.label, '3');
  assert.ok(overwrites.every((o) => o.node === 'n3' || o.node === 'n4'), 'only n3 and n4 lose entries');
  await page.evaluate((i) => window.faultlineViewer.select(i), at103.event);
  const d = await details(page);
  assert.ok(d.text.includes('overwritten: 103 (was 1)'), 'the side panel names the overwrite: ' + d.text);
  const cell = await page.$eval('#details .cell.overwritten', (c) => c.dataset.index);
  assert.equal(cell, '103');
  await page.evaluate(() => window.faultlineViewer.fit());
  assert.ok((await page.evaluate(() => window.faultlineViewer.strip())).overwrites > 0, 'an overwritten cell is drawn at full view');
  // Zoomed in around the overwrite, with the keys.
  await page.evaluate((i) => window.faultlineViewer.select(i), at103.event);
  await page.focus('#canvas');
  for (let z = 0; z < 4; z++) await page.keyboard.press('+');
  assert.ok((await page.evaluate(() => window.faultlineViewer.strip())).overwrites > 0, 'and zoomed in on it');
  await page.screenshot({ path: join(outDir, 'strip-overwrite.png') });
  assert.deepEqual(problems, [], 'no script errors and no network');
  await page.close();
}

// A busy run zoomed out is drawn by density (one line per sending lane, receiving lane and
// few pixels); zoomed in, every arrow is drawn again.
async function checkDensity(context) {
  const html = join(outDir, 'busy.html');
  faultline(['run', 'scenarios/raft-elect-and-replicate.yaml', '--html', html]);
  const { page, problems } = await open(context, html);
  await page.setViewportSize({ width: 1400, height: 800 });
  const fitted = await page.evaluate(() => { window.faultlineViewer.fit(); return window.faultlineViewer.stats(); });
  assert.equal(fitted.drawnArrows, fitted.arrows, 'zoomed out fully, every arrow is in view');
  assert.ok(fitted.aggregatedArrows > 0 && fitted.aggregatedArrows * 2 < fitted.drawnArrows, `drawn by density (${fitted.aggregatedArrows} lines for ${fitted.drawnArrows} arrows)`);
  await page.screenshot({ path: join(outDir, 'busy-fit.png') });
  const zoomed = await page.evaluate(() => {
    const v = window.faultlineViewer;
    for (let k = 0; k < 40 && v.stats().drawnArrows > 1000; k++) v.zoom(0.8);
    return v.stats();
  });
  assert.ok(zoomed.drawnArrows > 0 && zoomed.aggregatedArrows === 0, `zoomed in, each arrow is drawn (${zoomed.drawnArrows} arrows, ${zoomed.aggregatedArrows} grouped lines)`);
  assert.deepEqual(problems, [], 'no script errors and no network');
  await page.close();
}

const profile = mkdtempSync(join(tmpdir(), 'faultline-chromium-'));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: BROWSER,
  headless: true,
  args: ARGS,
  offline: true,
});
try {
  const figure8 = await checkScenarioPage(context);
  await checkExplainedTrace(context);
  await checkOpNumbers(context);
  await checkStrip(context);
  await checkDensity(context);
  console.log(`browser test ok: ${figure8.events} events, ${figure8.deliveries} arrows; screenshots in ${outDir}`);
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}
