// Measures the viewer on one page: time to first render and time per step.
// usage: node measure.mjs PAGE.html [SCREENSHOT.png]
import { chromium } from 'playwright-core';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const [pagePath, shot] = process.argv.slice(2);
const STEPS = 200;
const profile = mkdtempSync(join(tmpdir(), 'faultline-chromium-'));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: '/usr/bin/chromium',
  headless: true,
  offline: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
try {
  const page = await context.newPage();
  await page.setViewportSize({ width: 1400, height: 800 });
  const started = Date.now();
  await page.goto(pathToFileURL(resolve(pagePath)).href);
  await page.waitForSelector('body[data-ready="1"]', { timeout: 120000 });
  const loadedMs = Date.now() - started;
  const stats = await page.evaluate(() => window.faultlineViewer.stats());
  const fitDrawMs = await page.evaluate(() => { window.faultlineViewer.fit(); return window.faultlineViewer.draw(); });
  await page.evaluate(() => window.faultlineViewer.zoom(0.001));
  await page.focus('#canvas');
  const t0 = Date.now();
  for (let k = 0; k < STEPS; k++) await page.keyboard.press('ArrowRight');
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => r())));
  const stepMs = (Date.now() - t0) / STEPS;
  const zoomedDrawMs = await page.evaluate(() => window.faultlineViewer.draw());
  if (shot) await page.screenshot({ path: shot });
  console.log(JSON.stringify({ events: stats.events, deliveries: stats.deliveries, pageLoadToReadyMs: loadedMs,
    scriptFirstRenderMs: Math.round(stats.firstRenderMs), fullViewDrawMs: Math.round(fitDrawMs),
    zoomedDrawMs: Math.round(zoomedDrawMs * 10) / 10, stepMs: Math.round(stepMs * 10) / 10 }));
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}
