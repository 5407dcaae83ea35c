/**
 * `npm run demo` (examples/demo.ts) as a person runs it: in a child process, on PGlite (the
 * default) and with `--memory`. It must say what it is doing as it goes, each step before the
 * next, and end with the readable tables.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '../..');

/** The demo in a child process: its output so far, and its exit code once it exits. */
function spawnDemo(args: string[]): {
  child: ReturnType<typeof spawn>;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
} {
  const child = spawn(process.execPath, ['--import', 'tsx', 'examples/demo.ts', ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    stdout += chunk.toString('utf8');
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
  });
  const exited = new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', resolve);
  });
  return { child, stdout: () => stdout, stderr: () => stderr, exited };
}

async function runDemo(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const demo = spawnDemo(args);
  const code = await demo.exited;
  return { code, stdout: demo.stdout(), stderr: demo.stderr() };
}

/** The position of the first line matching each pattern, in order; fails naming the one missing. */
function positions(lines: string[], patterns: RegExp[]): number[] {
  return patterns.map((pattern) => {
    const index = lines.findIndex((line) => pattern.test(line));
    expect(index, `no line matches ${pattern}:\n${lines.join('\n')}`).toBeGreaterThanOrEqual(0);
    return index;
  });
}

const STEP = /^\[\s*\d+\.\d s\] /;

const DELIVERING = [
  /^webhooks: creating four$/,
  /^webhooks: #1 bigevents: pretix\.event\.order\.changed\.\* at democon only/,
  /^webhooks: #4 default \(Taler\)/,
  /^emit: pretix\.event\.order\.changed\.item\s+event=democon\s+-> 1 delivery/,
  /^emit: pretix\.event\.order\.changed\.item\s+event=otherfest\s+-> 0 delivery/,
  /^emit: pay\s+event=-\s+-> 1 delivery/,
  /^worker: starting; delivering 4 deliveries$/,
  /^deliver: msg_\w+ #2 503: retrying in \d+ ms$/,
  /^deliver: msg_\w+ #2 200: succeeded$/,
  /^worker: all 4 deliveries finished; stopped$/,
];

function checkTables(stdout: string): void {
  expect(stdout).toMatch(/#2 bigevents\s+pretix\.event\.order\.paid\s+succeeded\s+503 > 503 > 200/);
  expect(stdout).toMatch(/#3 bigevents\s+pretix\.event\.order\.canceled\s+failed\s+410/);
  expect(stdout).toMatch(/\/taler\s+200\s+verified \(webhook-id msg_\w+\)/);
  expect(stdout).toContain('Webhook #3 is now enabled=false (disabledReason: gone)');
}

describe('npm run demo', () => {
  it('on PGlite: prints each step as it happens, in order, then the tables', async () => {
    const { code, stdout, stderr } = await runDemo([]);
    expect(code, stderr).toBe(0);
    const lines = stdout.split('\n');
    const steps = lines.filter((l) => STEP.test(l)).map((l) => l.replace(STEP, ''));
    const at = positions(steps, [
      /^receiver: listening on http:\/\/127\.0\.0\.1:\d+$/,
      /^store: opening embedded PostgreSQL \(PGlite\) in /,
      /^store: database open; migrating$/,
      /^store: migrated from schema version 0 to \d+ \(applied 1, /,
      ...DELIVERING,
      /^store: reopening .* with pgliteStore\(\)/,
      /^store: reopened: 4 webhooks; webhook #2's delivery is succeeded after 3 attempts$/,
    ]);
    expect(at).toEqual([...at].sort((a, b) => a - b));
    // The first line comes before anything slow; the tables come after the last delivery step.
    expect(lines[2]).toMatch(/^\[\s*\d+\.\d s\] receiver: starting/);
    const [finished, tables] = positions(lines, [
      /worker: all 4 deliveries finished/,
      /^Deliveries and their attempts/,
    ]);
    expect(tables).toBeGreaterThan(finished ?? Number.POSITIVE_INFINITY);
    checkTables(stdout);
  }, 180_000);

  it('with --memory: the same steps without the database', async () => {
    const { code, stdout, stderr } = await runDemo(['--memory']);
    expect(code, stderr).toBe(0);
    const steps = stdout
      .split('\n')
      .filter((l) => STEP.test(l))
      .map((l) => l.replace(STEP, ''));
    const at = positions(steps, [/^receiver: listening on /, /^store: in memory/, ...DELIVERING]);
    expect(at).toEqual([...at].sort((a, b) => a - b));
    expect(steps.some((s) => s.includes('PGlite'))).toBe(false);
    checkTables(stdout);
  }, 120_000);
});

describe('npm run demo -- --ui', () => {
  it('on PGlite: serves the delivery log of what it did until SIGTERM, then exits 0', async () => {
    const demo = spawnDemo(['--ui', '--ui-port', '0']);
    try {
      await expect
        .poll(() => /the delivery log is at (http:\/\/127\.0\.0\.1:\d+\/ui\/)/.exec(demo.stdout())?.[1], {
          timeout: 150_000,
          interval: 200,
        })
        .toBeDefined();
      const base = /the delivery log is at (http:\/\/127\.0\.0\.1:\d+\/ui\/)/.exec(
        demo.stdout(),
      )?.[1] as string;
      const webhooks = await fetch(`${base}bigevents/webhooks`);
      expect(webhooks.status).toBe(200);
      const html = await webhooks.text();
      expect(html.match(/<tr data-webhook-id="/g)).toHaveLength(3);
      expect(html).toContain('<svg class="chart"');
      // The delivery that went 503, 503, 200 shows its three attempts (read from the PGlite store).
      const failedFirst = await fetch(`${base}bigevents/deliveries?webhook=2`);
      const id = /data-delivery-id="(msg_\w+)"/.exec(await failedFirst.text())?.[1];
      expect(id).toBeDefined();
      const delivery = await (await fetch(`${base}bigevents/deliveries/${id}`)).text();
      expect(delivery.match(/<article class="attempt"/g)).toHaveLength(3);
    } finally {
      demo.child.kill('SIGTERM');
    }
    expect(await demo.exited, demo.stderr()).toBe(0);
    expect(demo.stdout()).toMatch(/ui: stopped \(SIGTERM\)/);
  }, 180_000);
});
