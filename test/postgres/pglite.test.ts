import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PGlite } from '@electric-sql/pglite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pgliteStore } from '../../src/stores/postgres/index.js';
import { webhookFields } from '../../src/testing/conformance-index.js';
import { destroyStore, freshStore, newPGlite } from './helpers.js';
import { sharedBehaviour } from './shared.js';

let db: PGlite;
beforeAll(async () => {
  db = await newPGlite();
});
afterAll(async () => {
  await db.close();
});

describe('postgres store on PGlite', () => {
  sharedBehaviour(
    () => db,
    (fn) => db.transaction((tx) => fn(tx)),
  );
});

describe('reads inside a PGlite transaction', () => {
  it('lists webhooks on the given tx instead of waiting for the transaction to end', async () => {
    const store = await freshStore(db);
    try {
      await store.insertWebhook({ scope: 'a', fields: webhookFields(), now: new Date() });
      const listed = await db.transaction((tx) =>
        store.listWebhooks({ scope: 'a', offset: 0, limit: null, tx } as Parameters<
          typeof store.listWebhooks
        >[0]),
      );
      expect(listed.count).toBe(1);
    } finally {
      await destroyStore(store);
    }
  });
});

describe('pgliteStore()', () => {
  it('passes recordDelayMs on to its store (default 2 ms)', async () => {
    const quick = await pgliteStore({ recordDelayMs: 0 });
    const plain = await pgliteStore();
    try {
      expect(quick.recordDelayMs).toBe(0);
      expect(plain.recordDelayMs).toBe(2);
    } finally {
      await quick.close();
      await plain.close();
    }
  });

  it('keeps webhooks across a restart with a dataDir, creating its parent folders', {
    timeout: 120_000,
  }, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'hookline-pglite-'));
    try {
      // The folder's parents do not exist yet: pgliteStore makes them.
      const dataDir = join(dir, 'data', 'hookline');
      const first = await pgliteStore({ dataDir });
      expect(first.name).toBe('pglite');
      const hook = await first.insertWebhook({
        scope: 'acme',
        fields: webhookFields({ key: 'orders', comment: 'persisted' }),
        now: new Date('2026-01-01T00:00:00Z'),
      });
      await first.close();
      await first.close();

      const second = await pgliteStore({ dataDir });
      try {
        expect(await second.getWebhook({ scope: 'acme', id: hook.id })).toEqual(hook);
        expect(await second.migrate()).toMatchObject({ applied: [] });
      } finally {
        await second.close();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
