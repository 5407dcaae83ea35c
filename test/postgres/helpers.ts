import { randomBytes } from 'node:crypto';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { describe, it } from 'vitest';
import type { RecordAttemptInput } from '../../src/index.js';
import type { Queryable } from '../../src/stores/postgres/index.js';
import { type PostgresStore, postgresStore } from '../../src/stores/postgres/index.js';

/** Every schema a test run creates starts with this, so leftovers are easy to find and drop. */
export const SCHEMA_PREFIX = `hookline_test_${process.pid}_${randomBytes(3).toString('hex')}`;
let schemaSeq = 0;

/** A fresh schema name for one store. */
export function uniqueSchema(): string {
  schemaSeq += 1;
  return `${SCHEMA_PREFIX}_${schemaSeq}`;
}

export const DATABASE_URL = process.env.HOOKLINE_TEST_DATABASE_URL;
const IN_CI = Boolean(process.env.CI);

/** Whether the real server is reachable, and why not. */
async function probe(): Promise<{ ok: true } | { ok: false; reason: string }> {
  if (!DATABASE_URL) return { ok: false, reason: 'HOOKLINE_TEST_DATABASE_URL is not set' };
  const client = new pg.Client({ connectionString: DATABASE_URL, connectionTimeoutMillis: 5_000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('SELECT 1');
    return { ok: true };
  } catch (error) {
    return { ok: false, reason: `cannot reach ${DATABASE_URL}: ${(error as Error).message}` };
  } finally {
    await client.end().catch(() => undefined);
  }
}

export const server = await probe();

/**
 * `describe` for tests that need the real PostgreSQL. Without it: in CI a failing test (never
 * a silent skip), locally a skipped block with a visible message.
 */
export function describeServer(name: string, body: () => void): void {
  if (server.ok) {
    describe(name, body);
    return;
  }
  const reason = server.reason;
  if (IN_CI) {
    describe(name, () => {
      it('needs the real PostgreSQL (HOOKLINE_TEST_DATABASE_URL) in CI', () => {
        throw new Error(`Real PostgreSQL tests cannot run in CI: ${reason}.`);
      });
    });
    return;
  }
  console.warn(`[hookline] skipping "${name}": ${reason} (set HOOKLINE_TEST_DATABASE_URL to run it)`);
  describe.skip(`${name} (skipped: ${reason})`, body);
}

/** A pool on the real server whose errors (terminated idle clients) are swallowed. */
export function serverPool(options: pg.PoolConfig = {}): pg.Pool {
  const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 10, ...options });
  pool.on('error', () => undefined);
  return pool;
}

/** Drops one schema and everything in it. */
export async function dropSchema(db: Queryable, schema: string): Promise<void> {
  await db.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
}

/** Drops every schema this run created (safety net for failed tests). */
export async function dropRunSchemas(db: Queryable): Promise<void> {
  const { rows } = await db.query('SELECT nspname FROM pg_namespace WHERE starts_with(nspname, $1)', [
    SCHEMA_PREFIX,
  ]);
  for (const row of rows as { nspname: string }[]) await dropSchema(db, row.nspname);
}

/** A migrated store in a fresh schema. */
export async function freshStore(
  db: Queryable,
  options: Omit<Parameters<typeof postgresStore>[0], 'db' | 'schema'> = {},
): Promise<PostgresStore> {
  const store = postgresStore({ db, schema: uniqueSchema(), ...options });
  await store.migrate();
  return store;
}

/** Closes the store and drops its schema. */
export async function destroyStore(store: PostgresStore): Promise<void> {
  await store.close();
  await dropSchema(store.db, store.schema);
}

/** One in-memory PGlite for a test file (starting one takes seconds). */
export async function newPGlite(): Promise<PGlite> {
  return PGlite.create();
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** One successful attempt, at `now`, for each claimed delivery (input of `recordAttempts`). */
export function successes(
  claimed: readonly { id: string; leaseToken: string }[],
  now: Date,
): RecordAttemptInput[] {
  return claimed.map((d) => ({
    deliveryId: d.id,
    leaseToken: d.leaseToken,
    now,
    attempt: {
      startedAt: now,
      durationMs: 1,
      status: 200,
      ok: true,
      error: null,
      responseBody: '',
      responseHeaders: {},
    },
    outcome: { state: 'succeeded' },
  }));
}
