import { PGlite } from '@electric-sql/pglite';
import { describe, expect, it } from 'vitest';
import { runExample } from '../../examples/postgres/transactional-emit.js';
import { describeServer, serverPool } from './helpers.js';

describe('examples/postgres/transactional-emit', () => {
  it('on PGlite: the rolled-back order leaves no delivery, the committed one is delivered', async () => {
    const db = await PGlite.create();
    try {
      const result = await runExample({ db, schema: 'hookline_example' });
      expect(result.rolledBack).toBe(0);
      expect(result.received.map((body) => JSON.parse(body).data)).toEqual([{ order: 2 }]);
    } finally {
      await db.close();
    }
  });
});

describeServer('examples/postgres/transactional-emit on the real server', () => {
  it('the rolled-back order leaves no delivery, the committed one is delivered', async () => {
    const pool = serverPool();
    try {
      const result = await runExample({ db: pool, schema: `hookline_example_${process.pid}` });
      expect(result.rolledBack).toBe(0);
      expect(result.received.map((body) => JSON.parse(body).data)).toEqual([{ order: 2 }]);
    } finally {
      await pool.end();
    }
  });
});
