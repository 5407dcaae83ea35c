/**
 * Writes the delivery-log UI's screenshots for the README and docs/ui.md to docs/images/:
 * ui-webhooks.png (a scope's webhooks with a day of traffic), ui-deliveries.png (the log) and
 * ui-delivery.png (a delivery that failed, then succeeded when sent again). The same world as the browser tests
 * (test/ui/scenario.ts: the node-http example, a receiver on 127.0.0.1), with 24 hours of
 * history, photographed by the system's Chromium (/usr/bin/chromium or HOOKLINE_CHROMIUM).
 *
 * Run: `npm run screenshots` (a few seconds; reaches loopback only).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { waitForDelivery } from '../src/testing/index.js';
import { chromiumMissing, launchChromium } from '../test/ui/chromium.js';
import { decodePng, distinctColours } from '../test/ui/png.js';
import { ShiftedClock, startScenario } from '../test/ui/scenario.js';

/** Where the pictures go. */
export const IMAGES_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'docs', 'images');

/** Takes the screenshots; resolves with the files written. */
export async function writeScreenshots(dir = IMAGES_DIR): Promise<string[]> {
  const missing = chromiumMissing();
  if (missing !== null)
    throw new Error(`${missing}: install Debian's chromium package, or set HOOKLINE_CHROMIUM`);
  const clock = new ShiftedClock();
  // Receivers take a realistic while to answer (the durations in the table and the charts).
  let step = 0;
  const scenario = await startScenario({
    paidOrders: 4,
    history: clock,
    receiverDelayMs: () => 20 + ((step++ * 37) % 90),
  });
  // One failed delivery sent again once its receiver is back: two attempts on its page.
  const flaky = scenario.deliveries.flaky[0];
  if (!flaky) throw new Error('the scenario has no failed delivery');
  scenario.receiver.flakyFails = false;
  await scenario.registry.redeliver('bigevents', flaky.id);
  await waitForDelivery({
    registry: scenario.registry,
    worker: scenario.worker,
    scope: 'bigevents',
    deliveryId: flaky.id,
  });
  const browser = await launchChromium();
  const written: string[] = [];
  try {
    const context = await browser.newContext({
      httpCredentials: { username: 'demo', password: 'demo-token-bigevents', origin: scenario.url },
      viewport: { width: 1280, height: 720 },
      deviceScaleFactor: 1,
    });
    const page = await context.newPage();
    const shots: [string, string, boolean][] = [
      ['ui-webhooks.png', '/bigevents/webhooks', false],
      ['ui-deliveries.png', '/bigevents/deliveries', false],
      ['ui-delivery.png', `/bigevents/deliveries/${flaky.id}`, true],
    ];
    mkdirSync(dir, { recursive: true });
    for (const [file, path, fullPage] of shots) {
      const response = await page.goto(`${scenario.ui}${path}`);
      if (response?.status() !== 200) throw new Error(`${path} answered ${response?.status()}`);
      const png = await page.screenshot({ type: 'png', fullPage });
      if (distinctColours(decodePng(png)) <= 8) throw new Error(`${file} came out blank`);
      writeFileSync(join(dir, file), png);
      written.push(join(dir, file));
    }
    await context.close();
  } finally {
    await browser.close();
    await scenario.close();
  }
  return written;
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  for (const file of await writeScreenshots()) console.log(`wrote ${file}`);
}
