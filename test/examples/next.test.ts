/**
 * examples/next as a user builds it: hookline packed with `npm pack` (from the built `dist/`),
 * the app copied to a scratch directory and installed from the tarball, `next build`, then
 * `next start`, exercised over real HTTP. The build and the server run with the network limited
 * to loopback, so the build downloads nothing (Next's SWC binary comes as an npm optional
 * dependency) and telemetry is off. The pretix URLs must be answered directly (no 308 to the URL
 * without the slash): that is `skipTrailingSlashRedirect` in the app's next.config.ts. The
 * delivery-log UIs answer under /ui and /taler/ui.
 *
 * It takes minutes (install and build), so it runs when `HOOKLINE_TEST_NEXT=1`, or in CI (`CI`
 * set) unless `HOOKLINE_TEST_NEXT=0`; otherwise it is skipped with a message. It needs
 * `npm run build` first (CI builds before testing).
 */
import { cp, mkdtemp, readdir, rename, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exerciseExample, exerciseUi } from './exercise.js';
import { LOOPBACK_ONLY, ROOT, runToEnd, type Started, startServer } from './run.js';

const setting = process.env.HOOKLINE_TEST_NEXT;
const enabled = setting === '1' || (setting !== '0' && Boolean(process.env.CI));
const SETUP_TIMEOUT_MS = 20 * 60_000;

/** Files of the app that are not copied: what install and build produce. */
const GENERATED = new Set(['node_modules', '.next', 'next-env.d.ts', 'hookline.tgz', 'tsconfig.tsbuildinfo']);

/** The `npm` on the PATH (packing and installing; Next itself runs on the tests' Node). */
function npm(args: string[], cwd: string): Promise<{ code: number | null; output: string }> {
  return runToEnd(args, { cwd, command: 'npm' });
}

const NEXT_ENV = {
  NEXT_TELEMETRY_DISABLED: '1',
  NODE_OPTIONS: `--import=${new URL(`file://${LOOPBACK_ONLY}`).href}`,
};

if (!enabled) {
  console.warn(
    '[hookline] skipping the Next.js example (install and build take minutes): set HOOKLINE_TEST_NEXT=1 to run it (CI runs it)',
  );
}

describe.skipIf(!enabled)('examples/next: next build and next start on the packed package', () => {
  let app = '';
  let server: Started | undefined;
  let buildOutput = '';

  beforeAll(async () => {
    const built = await stat(join(ROOT, 'dist/index.js')).catch(() => undefined);
    if (!built) throw new Error('dist/ is missing: run `npm run build` before the Next.js example test');
    app = await mkdtemp(join(tmpdir(), 'hookline-next-'));
    await cp(join(ROOT, 'examples/next'), app, {
      recursive: true,
      filter: (source) => !GENERATED.has(source.split('/').at(-1) ?? ''),
    });

    const packed = await npm(['pack', ROOT, '--pack-destination', app, '--silent'], app);
    expect(packed.code, packed.output).toBe(0);
    const tarball = (await readdir(app)).find((f) => /^hookline-.*\.tgz$/.test(f));
    if (!tarball) throw new Error(`npm pack left no tarball in ${app}:\n${packed.output}`);
    await rename(join(app, tarball), join(app, 'hookline.tgz'));

    const installed = await npm(['install', '--no-audit', '--no-fund', '--loglevel=error'], app);
    expect(installed.code, installed.output).toBe(0);

    const build = await runToEnd([join(app, 'node_modules/next/dist/bin/next'), 'build'], {
      cwd: app,
      env: NEXT_ENV,
    });
    buildOutput = build.output;
    expect(build.code, build.output).toBe(0);

    server = await startServer(
      [join(app, 'node_modules/next/dist/bin/next'), 'start', '--hostname', '127.0.0.1', '--port', '0'],
      { cwd: app, env: NEXT_ENV },
    );
  }, SETUP_TIMEOUT_MS);

  afterAll(async () => {
    await server?.stop();
    if (app) await rm(app, { recursive: true, force: true });
  });

  it('builds from the tarball without reaching the network', () => {
    expect(buildOutput).toMatch(/Compiled successfully/);
    expect(buildOutput).toMatch(/\/api\/\[\.\.\.path\]/);
    expect(buildOutput).toMatch(/\/ui\/\[\[\.\.\.path\]\]/);
    expect(buildOutput).toMatch(/\/taler\/ui\/\[\[\.\.\.path\]\]/);
    expect(buildOutput).not.toContain('[loopback-only] refused');
  });

  it('serves both APIs; pretix URLs ending in a slash are answered, not redirected', async () => {
    if (!server) throw new Error('next start did not start');
    await exerciseExample({ pretix: `${server.url}/api/v1`, taler: `${server.url}/api/taler` });
    const direct = await fetch(`${server.url}/api/v1/organizers/bigevents/webhooks/`, {
      headers: { authorization: 'Token demo-token-bigevents' },
      redirect: 'manual',
    });
    expect(direct.status).toBe(200);
    expect(direct.headers.get('location')).toBeNull();
    expect(server.output()).not.toContain('[loopback-only] refused');
  });

  it('serves both delivery-log UIs from their catch-all routes', async () => {
    if (!server) throw new Error('next start did not start');
    await exerciseUi({ pretixUi: `${server.url}/ui`, talerUi: `${server.url}/taler/ui` });
    expect(server.output()).not.toContain('[loopback-only] refused');
  });
});
