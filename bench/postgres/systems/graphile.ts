/**
 * graphile-worker in bench/postgres: its tables in a schema of the run's own (its `schema`
 * option); jobs of task `deliver` whose payload is the body to send (see ../job.ts).
 */
import { makeWorkerUtils } from 'graphile-worker';
import { benchPayload } from '../job.js';
import type { BenchSystem } from './types.js';

export const graphileSystem: BenchSystem = {
  name: 'graphile-worker',
  script: 'graphile',
  server: 'postgres',
  async prepare({ pool, tag }, label) {
    const schema = `${tag}_gw_${label}`;
    const utils = await makeWorkerUtils({ pgPool: pool, schema });
    await utils.migrate();
    return {
      config: { schema },
      async backlog(count) {
        for (let i = 0; i < count; i += 1_000) {
          await utils.addJobs(
            Array.from({ length: Math.min(1_000, count - i) }, (_, j) => ({
              identifier: 'deliver',
              payload: benchPayload(i + j, `ntf_${i + j}`),
            })),
          );
        }
      },
      async addOne(i) {
        // addJob inside the host's own BEGIN … COMMIT: graphile_worker.add_job() in the transaction.
        const client = await pool.connect();
        try {
          await client.query('BEGIN');
          await client.query(`SELECT "${schema}".add_job('deliver', $1::json)`, [
            JSON.stringify(benchPayload(i, `ntf_${i}`)),
          ]);
          await client.query('COMMIT');
        } catch (error) {
          await client.query('ROLLBACK').catch(() => undefined);
          throw error;
        } finally {
          client.release();
        }
      },
      async cleanup() {
        await utils.release();
        await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      },
    };
  },
};
