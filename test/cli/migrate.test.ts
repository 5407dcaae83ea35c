import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { LATEST_SCHEMA_VERSION, MIGRATIONS } from '../../src/stores/postgres/index.js';
import { DATABASE_URL, describeServer, dropSchema, serverPool, uniqueSchema } from '../postgres/helpers.js';
import { runCli } from './helpers.js';

// Each test starts the program as a child process (tsx compiles it each time): slow on a busy machine.
vi.setConfig({ testTimeout: 90_000, hookTimeout: 60_000 });

const ALL = MIGRATIONS.map((m) => m.version);

describeServer('hookline migrate on PostgreSQL', () => {
  let pool: pg.Pool;
  const schemas: string[] = [];
  const fresh = () => {
    const schema = uniqueSchema();
    schemas.push(schema);
    return schema;
  };
  const env = { DATABASE_URL };

  beforeAll(() => {
    pool = serverPool();
  });
  afterAll(async () => {
    for (const schema of schemas) await dropSchema(pool, schema);
    await pool.end();
  });

  it('--dry-run lists the pending migrations and applies nothing; then migrate applies them, and again does nothing', async () => {
    const schema = fresh();
    const dry = await runCli(['migrate', '--schema', schema, '--dry-run', '--json'], { env });
    expect(dry.code).toBe(0);
    expect(JSON.parse(dry.stdout)).toEqual({
      schema,
      current: 0,
      pending: MIGRATIONS.map(({ version, name }) => ({ version, name })),
    });
    const { rows } = await pool.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema]);
    expect(rows).toHaveLength(0);

    const first = await runCli(['migrate', '--schema', schema], { env });
    expect(first.code).toBe(0);
    expect(first.stdout).toBe(
      `schema "${schema}": applied ${ALL.join(', ')} (version 0 → ${LATEST_SCHEMA_VERSION})\n`,
    );
    const second = await runCli(['migrate', '--schema', schema], { env });
    expect(second).toMatchObject({
      code: 0,
      stdout: `schema "${schema}" is at version ${LATEST_SCHEMA_VERSION}: nothing to apply\n`,
    });
    const dryAfter = await runCli(['migrate', '--schema', schema, '--dry-run'], { env });
    expect(dryAfter.stdout).toBe(
      `schema "${schema}" is at version ${LATEST_SCHEMA_VERSION}: nothing to apply\n`,
    );
  });

  it('three at once on a fresh schema: all exit 0, each migration applied exactly once', async () => {
    const schema = fresh();
    const runs = await Promise.all(
      [1, 2, 3].map(() => runCli(['migrate', '--schema', schema, '--json'], { env })),
    );
    for (const run of runs) expect(run.code, run.stderr).toBe(0);
    const applied = runs.flatMap((run) => (JSON.parse(run.stdout) as { applied: number[] }).applied);
    expect(applied.sort((a, b) => a - b)).toEqual(ALL);
    const { rows } = await pool.query(`SELECT version FROM "${schema}".migrations ORDER BY version`);
    expect(rows.map((r: { version: number }) => r.version)).toEqual(ALL);
  });

  it('an unmigrated schema: other commands exit 1 and say to run hookline migrate', async () => {
    const result = await runCli(['stats', '--schema', fresh()], { env });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      /is at version 0, this hookline needs \d+: run `hookline migrate` first\. \(store_failed\)\n$/,
    );
  });
});

describe('hookline migrate on a PGlite directory', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hookline-cli-pglite-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('dry run, migrate, migrate again, then stats', { timeout: 120_000 }, async () => {
    const env = { DATABASE_URL: `pglite:${join(dir, 'db')}` };
    const dry = await runCli(['migrate', '--dry-run'], { env });
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toContain('is at version 0; pending:');
    const first = await runCli(['migrate', '--json'], { env });
    expect(JSON.parse(first.stdout)).toEqual({
      schema: 'hookline',
      from: 0,
      to: LATEST_SCHEMA_VERSION,
      applied: ALL,
    });
    const again = await runCli(['migrate'], { env });
    expect(again.stdout).toBe(`schema "hookline" is at version ${LATEST_SCHEMA_VERSION}: nothing to apply\n`);
    const stats = await runCli(['stats', '--json'], { env });
    expect(stats.code, stats.stderr).toBe(0);
    expect(JSON.parse(stats.stdout)).toMatchObject({
      pending: 0,
      due: 0,
      inFlight: 0,
      failingWebhookCount: 0,
    });
  });

  it('pglite: without a directory is refused', async () => {
    const result = await runCli(['migrate', '--database-url', 'pglite:']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('A PGlite URL is pglite:<dir>');
  });
});
