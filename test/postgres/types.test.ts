import type { PGlite, Transaction } from '@electric-sql/pglite';
import type pg from 'pg';
import { describe, expect, it } from 'vitest';
import { isNotificationClient, isPGlite, isPool } from '../../src/stores/postgres/driver.js';
import type { NotificationClient, PGliteLike, PoolLike, Queryable } from '../../src/stores/postgres/index.js';
import { newPGlite } from './helpers.js';

// Compile-time: the real driver types fit hookline's structural types unchanged.
function assignable(
  pool: pg.Pool,
  client: pg.Client,
  poolClient: pg.PoolClient,
  pglite: PGlite,
  tx: Transaction,
): void {
  const q: Queryable[] = [pool, client, poolClient, pglite, tx];
  const n: NotificationClient[] = [client, poolClient];
  const p: PoolLike = pool;
  const l: PGliteLike = pglite;
  void [q, n, p, l];
}

describe('driver detection', () => {
  it('accepts the real driver types (checked by tsc)', () => {
    expect(typeof assignable).toBe('function');
  });

  it('tells a pool, a client and PGlite apart', async () => {
    const { default: pgModule } = await import('pg');
    const pool = new pgModule.Pool({ connectionString: 'postgres://nobody@127.0.0.1:1/none' });
    const client = new pgModule.Client({ connectionString: 'postgres://nobody@127.0.0.1:1/none' });
    expect([isPool(pool), isPGlite(pool), isNotificationClient(pool)]).toEqual([true, false, false]);
    expect([isPool(client), isPGlite(client), isNotificationClient(client)]).toEqual([false, false, true]);
    const db = await newPGlite();
    try {
      expect([isPool(db), isPGlite(db), isNotificationClient(db)]).toEqual([false, true, false]);
      await db.transaction(async (tx) => {
        expect([isPool(tx), isPGlite(tx), isNotificationClient(tx)]).toEqual([false, false, false]);
      });
    } finally {
      await db.close();
      await pool.end();
    }
  });
});
