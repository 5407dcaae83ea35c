import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { prometheusName } from '../../src/cli/metrics.js';
import { redactUrl, sanitize, table } from '../../src/cli/output.js';
import { parseInstant } from '../../src/cli/time.js';
import { VERSION } from '../../src/version.js';
import { runCli } from './helpers.js';

// Each test starts the program as a child process (tsx compiles it each time): slow on a busy machine.
vi.setConfig({ testTimeout: 90_000, hookTimeout: 60_000 });

const COMMANDS = [
  'migrate',
  'worker',
  'stats',
  'recover',
  'cancel',
  'deliveries',
  'attempts',
  'rotate-secrets',
  'generate-secret-key',
];

describe('hookline: arguments, help and exit codes', () => {
  it('--help on the program and on every command exits 0 with the usage on stdout', {
    timeout: 180_000,
  }, async () => {
    const top = await runCli(['--help']);
    expect(top.code).toBe(0);
    for (const name of COMMANDS) expect(top.stdout).toContain(`  ${name} `);
    const results = await Promise.all(COMMANDS.map((name) => runCli([name, '--help'])));
    results.forEach((result, i) => {
      expect(result.code, `${COMMANDS[i]} --help`).toBe(0);
      expect(result.stdout).toMatch(new RegExp(`^Usage: hookline ${COMMANDS[i]} `));
      expect(result.stdout).toContain('--help');
      expect(result.stderr).toBe('');
    });
  });

  it('--version prints the version', async () => {
    const result = await runCli(['--version']);
    expect(result).toMatchObject({ code: 0, stdout: `${VERSION}\n` });
  });

  it.each([
    [['bogus'], /unknown command "bogus"/, /Usage: hookline <command>/],
    [[], /Usage: hookline <command>/, /Commands:/],
    [['stats', '--nope'], /hookline stats: unknown option --nope/, /Usage: hookline stats/],
    [
      ['recover', '--scope'],
      /--scope needs a value/,
      /Usage: hookline recover --scope <scope> --since <when>/,
    ],
    [['recover', '--since', '24h'], /--scope is required/, /Usage: hookline recover/],
    [
      ['worker', '--concurrency', 'many'],
      /--concurrency must be an integer >= 1, got "many"/,
      /Usage: hookline worker/,
    ],
    [['worker', '--concurrency', '0'], /--concurrency must be an integer >= 1/, /Usage: hookline worker/],
    [['worker', '--log-format', 'xml'], /--log-format must be one of json, pretty/, /Usage: hookline worker/],
    [
      ['recover', '--scope', 'a', '--since', 'yesterday'],
      /--since must be an ISO 8601/,
      /Usage: hookline recover/,
    ],
    [
      ['recover', '--scope', 'a', '--since', '1h', '--state', 'succeeded'],
      /--state must be one of failed, canceled/,
      /Usage/,
    ],
    [['deliveries', '--scope', 'a', 'extra'], /unexpected argument "extra"/, /Usage: hookline deliveries/],
    [
      ['worker', '--config', './hookline.config.yaml'],
      /--config must be a \.js, \.mjs/,
      /Usage: hookline worker/,
    ],
  ])('bad arguments %j exit 2 with the usage on stderr', async (args, message, usage) => {
    const result = await runCli(args);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(result.stderr).toMatch(usage);
    expect(result.stdout).toBe('');
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it('--config in TypeScript loads through tsx; a config that sets store is refused (exit 1)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hookline-cli-config-'));
    try {
      writeFileSync(
        join(dir, 'hookline.config.ts'),
        "const options: { store: string; retryPolicy?: unknown } = { store: 'mine' };\nexport default options;\n",
      );
      writeFileSync(join(dir, 'list.mjs'), 'export default [1, 2];\n');
      const ts = await runCli(['worker', '--config', join(dir, 'hookline.config.ts')]);
      expect(ts.code).toBe(1);
      expect(ts.stderr).toMatch(/sets "store": the command makes the store from --database-url/);
      const list = await runCli(['worker', '--config', join(dir, 'list.mjs')]);
      expect(list.code).toBe(1);
      expect(list.stderr).toMatch(
        /must export default an object of registry options .*\(invalid_option\)\n$/,
      );
      const missing = await runCli(['worker', '--config', join(dir, 'nope.mjs')]);
      expect(missing.code).toBe(2);
      expect(missing.stderr).toContain('--config: no such file');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('no database: exit 1 with what to do, no stack trace', async () => {
    const result = await runCli(['stats']);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      'hookline stats: No database: pass --database-url postgres://… (or pglite:<dir>), or set DATABASE_URL. (invalid_option)\n',
    );
  });

  it('never prints the database password', async () => {
    const result = await runCli(['stats', '--database-url', 'postgres://app:s3cr3t-pw@127.0.0.1:1/db']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^hookline stats: .*\(store_failed\)\n$/);
    expect(result.stderr).not.toContain('s3cr3t-pw');
    const bad = await runCli(['stats', '--database-url', 'mysql://app:s3cr3t-pw@host/db']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('mysql://app:***@host/db');
    expect(bad.stderr).not.toContain('s3cr3t-pw');
  });
});

describe('hookline: helpers', () => {
  it('parses ISO 8601 and relative instants', () => {
    const now = new Date('2026-05-10T12:00:00Z');
    expect(parseInstant('24h', '--since', now).toISOString()).toBe('2026-05-09T12:00:00.000Z');
    expect(parseInstant('7d', '--since', now).toISOString()).toBe('2026-05-03T12:00:00.000Z');
    expect(parseInstant('90s', '--since', now).toISOString()).toBe('2026-05-10T11:58:30.000Z');
    expect(parseInstant('2026-05-01T00:00:00Z', '--since', now).toISOString()).toBe(
      '2026-05-01T00:00:00.000Z',
    );
    expect(() => parseInstant('2026-13-45', '--since', now)).toThrow(/--since must be/);
    expect(() => parseInstant('soon', '--until', now)).toThrow(/--until must be/);
  });

  it('strips ANSI escapes and control characters from third-party text', () => {
    expect(sanitize('ok \u001b[31mred\u001b[0m\u0007 \u001b]0;title\u0007done\r\n')).toBe('ok red  done  ');
    expect(sanitize('a\tb\nc\u0000', true)).toBe('a\tb\nc');
    expect(table([{ a: 'x\u001b[2Jy' }], [{ header: 'a', get: (r) => r.a }])).toBe('a\n--\nxy\n');
  });

  it('redacts passwords of URLs', () => {
    expect(redactUrl('postgres://u:p%40ss@h:5432/d?sslpassword=x')).toBe(
      'postgres://u:***@h:5432/d?sslpassword=***',
    );
  });

  it('names metrics as the OpenTelemetry Prometheus exporter does', () => {
    expect(prometheusName('hookline.attempts', true)).toBe('hookline_attempts_total');
    expect(prometheusName('hookline.attempt.duration')).toBe('hookline_attempt_duration');
    expect(prometheusName('http.response.status_class')).toBe('http_response_status_class');
  });
});
