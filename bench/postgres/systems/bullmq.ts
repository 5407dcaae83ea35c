/**
 * BullMQ in bench/postgres: a queue of the run's own under the bench's Redis key prefix; jobs
 * whose data is the body to send (see ../job.ts), removed once completed (graphile-worker deletes
 * completed jobs too; hookline keeps each delivery and its attempt, its delivery log).
 */
import { Queue } from 'bullmq';
import { benchPayload } from '../job.js';
import type { BenchSystem } from './types.js';

const jobOptions = { removeOnComplete: true };

export const bullmqSystem: BenchSystem = {
  name: 'BullMQ',
  script: 'bullmq',
  server: 'redis',
  async prepare({ tag, redis }, label) {
    const prefix = `${tag}_bull`;
    const name = `run_${label}`;
    const queue = new Queue(name, { connection: { ...redis }, prefix });
    await queue.waitUntilReady();
    return {
      config: { schema: '', redis: { ...redis, prefix, queue: name } },
      async backlog(count) {
        for (let i = 0; i < count; i += 1_000) {
          await queue.addBulk(
            Array.from({ length: Math.min(1_000, count - i) }, (_, j) => ({
              name: 'deliver',
              data: benchPayload(i + j, `ntf_${i + j}`),
              opts: jobOptions,
            })),
          );
        }
      },
      async addOne(i) {
        await queue.add('deliver', benchPayload(i, `ntf_${i}`), jobOptions);
      },
      async cleanup() {
        await queue.obliterate({ force: true });
        await queue.close();
      },
    };
  },
};
