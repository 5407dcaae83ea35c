/**
 * Chromium for the browser tests and the README screenshots: the system's browser (Debian's
 * `chromium` package at /usr/bin/chromium, or `HOOKLINE_CHROMIUM`), driven by playwright-core,
 * which downloads no browser. CI installs the package when it is missing (`.ci/run`).
 */
import { accessSync, constants } from 'node:fs';
import { type Browser, chromium } from 'playwright-core';
import { describe, it } from 'vitest';

/** Where the browser is: `HOOKLINE_CHROMIUM`, default `/usr/bin/chromium`. */
export const CHROMIUM_PATH = process.env.HOOKLINE_CHROMIUM ?? '/usr/bin/chromium';

/** Why Chromium cannot be started, or `null` when the executable is there. */
export function chromiumMissing(): string | null {
  try {
    accessSync(CHROMIUM_PATH, constants.X_OK);
    return null;
  } catch {
    return `no Chromium at ${CHROMIUM_PATH}`;
  }
}

/**
 * Launches headless Chromium with no sandbox (containers), no GPU and none of its own network
 * traffic (updates, sync, QUIC), so it reaches only the pages it is sent to.
 */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/**
 * `describe` for tests that need Chromium: without it they fail in CI (which installs it) and
 * are skipped with a warning elsewhere, as the real-PostgreSQL tests are.
 */
export function describeBrowser(name: string, body: () => void): void {
  const missing = chromiumMissing();
  if (missing === null) {
    describe(name, body);
    return;
  }
  if (process.env.CI) {
    describe(name, () => {
      it('needs Chromium in CI', () => {
        throw new Error(
          `The browser tests cannot run in CI: ${missing} (.ci/run installs the chromium package).`,
        );
      });
    });
    return;
  }
  console.warn(
    `[hookline] skipping "${name}": ${missing} (apt-get install chromium, or set HOOKLINE_CHROMIUM)`,
  );
  describe.skip(`${name} (skipped: ${missing})`, body);
}
