/**
 * A BullMQ worker process for bench/postgres: a `Worker` with `concurrency` whose processor signs
 * and POSTs the job's body (see ../job.ts), under the run's own Redis key prefix.
 */
import { Worker } from 'bullmq';
import { type BenchPayload, createSender } from '../job.js';
import { serveWorker } from './protocol.js';

await serveWorker(async (config) => {
  const redis = config.redis;
  if (!redis) throw new Error('the BullMQ worker needs config.redis');
  const sender = createSender(config.port);
  let done = 0;
  const worker = new Worker<BenchPayload>(
    redis.queue,
    async (job) => {
      await sender.send(`msg_${job.id}`, job.data);
      done++;
    },
    {
      connection: { host: redis.host, port: redis.port, maxRetriesPerRequest: null },
      prefix: redis.prefix,
      concurrency: config.concurrency,
      autorun: false,
    },
  );
  worker.on('error', (error) => console.error('BullMQ worker error:', error.message));
  await worker.waitUntilReady();
  return async () => {
    void worker.run();
    return {
      async stop() {
        await worker.close();
        await sender.close();
        return done;
      },
    };
  };
});
