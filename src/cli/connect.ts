/**
 * The store of a command: from `--database-url` or `DATABASE_URL`, in the schema `--schema`.
 *
 * - `postgres://…` / `postgresql://…`: a `pg.Pool` and `postgresStore()`;
 * - `pglite:<dir>`: an embedded PGlite database in the directory `<dir>` (created when missing;
 *   one process at a time).
 *
 * `pg` and `@electric-sql/pglite` are optional peer dependencies of hookline: they are imported
 * here only when such a URL is given, with a message naming the package when it is missing.
 *
 * @module
 */
import { mkdir } from 'node:fs/promises';
import { HooklineError } from '../errors.js';
import type { PGliteLike, Queryable } from '../stores/postgres/driver.js';
import { DEFAULT_SCHEMA } from '../stores/postgres/migrations.js';
import { type PostgresStore, postgresStore } from '../stores/postgres/store.js';
import type { OptionSpecs } from './args.js';
import { addSecret, redactUrl } from './output.js';

/** The connection options every command that reads the store has. */
export const CONNECTION_OPTIONS = {
  'database-url': {
    type: 'string',
    value: '<url>',
    description: 'postgres://user:pass@host:5432/db, or pglite:<dir> (default: $DATABASE_URL)',
  },
  schema: { type: 'string', value: '<name>', description: "hookline's schema", default: DEFAULT_SCHEMA },
} as const satisfies OptionSpecs;

/** An open store and what to close with it. */
export interface Connection {
  readonly store: PostgresStore;
  /** The database, for `migrate()` and cheap liveness queries. */
  readonly db: Queryable;
  /** `postgres` or `pglite`. */
  readonly kind: 'postgres' | 'pglite';
  /** The URL without its password, for messages. */
  readonly display: string;
  /** Runs `SELECT 1`: rejects when the database does not answer. */
  ping(): Promise<void>;
  /** Closes the store, then the pool or the PGlite database. Safe to call twice. */
  close(): Promise<void>;
}

/** A connection problem the user can fix (exit code 1). */
export class ConnectionError extends HooklineError {
  static override readonly kind: string = 'ConnectionError';
}

/** Keeps bundlers from resolving the optional peer dependencies. */
const PG_MODULE = 'pg';
const PGLITE_MODULE = '@electric-sql/pglite';

interface PgModule {
  Pool: new (config: {
    connectionString: string;
    max?: number;
    application_name?: string;
  }) => Queryable & {
    on(event: 'error', listener: (error: Error) => void): unknown;
    end(): Promise<void>;
  };
}

interface PgliteModule {
  PGlite: { create(options: { dataDir: string }): Promise<PGliteLike & { close(): Promise<void> }> };
}

async function load<T>(specifier: string, what: string): Promise<T> {
  try {
    const mod = (await import(specifier)) as T & { default?: T };
    return (mod.default ?? mod) as T;
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') {
      throw new ConnectionError(
        'store_failed',
        `${what} needs the package ${specifier}: npm install ${specifier}`,
        {
          cause: error,
        },
      );
    }
    throw error;
  }
}

/** The database URL of a command: `--database-url`, else `DATABASE_URL`. */
export function databaseUrl(
  values: { 'database-url'?: string },
  env: NodeJS.ProcessEnv = process.env,
): string {
  const url = values['database-url'] ?? env.DATABASE_URL;
  if (url === undefined || url.trim() === '') {
    throw new ConnectionError(
      'invalid_option',
      'No database: pass --database-url postgres://… (or pglite:<dir>), or set DATABASE_URL.',
    );
  }
  return url.trim();
}

/**
 * Opens the store of `url` in `schema`. Does not migrate; the store checks the schema version
 * on its first statement.
 */
export async function connect(options: {
  url: string;
  schema: string;
  poolSize?: number;
}): Promise<Connection> {
  const { url, schema } = options;
  if (/^postgres(ql)?:\/\//i.test(url)) {
    try {
      const parsed = new URL(url);
      addSecret(decodeURIComponent(parsed.password));
      addSecret(parsed.password);
    } catch {
      throw new ConnectionError('invalid_option', `The database URL does not parse: ${redactUrl(url)}`);
    }
    const pg = await load<PgModule>(PG_MODULE, 'A postgres:// database URL');
    const pool = new pg.Pool({
      connectionString: url,
      max: options.poolSize ?? 10,
      application_name: 'hookline',
    });
    // Idle clients the server terminates emit errors on the pool; the next query reconnects.
    pool.on('error', () => undefined);
    const store = postgresStore({ db: pool, schema });
    let closing: Promise<void> | undefined;
    return {
      store,
      db: pool,
      kind: 'postgres',
      display: redactUrl(url),
      async ping() {
        await pool.query('SELECT 1');
      },
      close() {
        closing ??= (async () => {
          await store.close().catch(() => undefined);
          await pool.end().catch(() => undefined);
        })();
        return closing;
      },
    };
  }
  if (/^pglite:/i.test(url)) {
    const dataDir = url.slice('pglite:'.length);
    if (dataDir === '' || dataDir.startsWith('//')) {
      throw new ConnectionError(
        'invalid_option',
        `A PGlite URL is pglite:<dir>, e.g. pglite:./data/hookline or pglite:/var/lib/hookline; got "${url}".`,
      );
    }
    const mod = await load<PgliteModule>(PGLITE_MODULE, 'A pglite: database URL');
    let db: PGliteLike & { close(): Promise<void> };
    try {
      await mkdir(dataDir, { recursive: true });
      db = await mod.PGlite.create({ dataDir });
    } catch (error) {
      throw new ConnectionError(
        'store_failed',
        `Could not open PGlite in ${dataDir}: ${(error as Error).message}`,
        {
          cause: error,
        },
      );
    }
    const store = postgresStore({ db, schema });
    let closing: Promise<void> | undefined;
    return {
      store,
      db,
      kind: 'pglite',
      display: url,
      async ping() {
        await db.query('SELECT 1');
      },
      close() {
        closing ??= (async () => {
          await store.close().catch(() => undefined);
          if (!(db as { closed?: boolean }).closed) await db.close().catch(() => undefined);
        })();
        return closing;
      },
    };
  }
  throw new ConnectionError(
    'invalid_option',
    `Unsupported database URL ${redactUrl(url)}: use postgres://…, postgresql://… or pglite:<dir>.`,
  );
}
