/**
 * A graphile-worker process for bench/postgres: `run({ concurrency, taskList })` with one task
 * that signs and POSTs the job's body (see ../job.ts), on its own pg pool, in its own schema.
 * graphile-worker's other settings are its defaults (no local queue, no batched completion)
 * unless `graphileBatching` is set.
 */
import { Logger, run, type Task } from 'graphile-worker';
import pg from 'pg';
import { type BenchPayload, createSender } from '../job.js';
import { openConnections, serveWorker } from './protocol.js';

// Warnings and errors only: its info lines would interleave with the report. Its warning that
// maxPoolSize is below concurrency is known (see index.ts: the server allows 100 connections).
const logger = new Logger(() => (level, message) => {
  const name = String(level);
  if ((name === 'error' || name === 'warning') && !message.includes('maxPoolSize')) {
    console.error(`graphile-worker ${name}: ${message}`);
  }
});

await serveWorker(async (config) => {
  const pgPool = new pg.Pool({
    connectionString: config.url,
    max: config.poolMax,
    idleTimeoutMillis: 0,
    application_name: config.appName,
  });
  pgPool.on('error', () => undefined);
  pgPool.on('connect', (client) => client.on('error', () => undefined));
  await openConnections(pgPool, config.poolMax);
  const sender = createSender(config.port);
  let done = 0;
  const deliver: Task = async (payload, helpers) => {
    await sender.send(`msg_${helpers.job.id}`, payload as BenchPayload);
    done++;
  };
  return async () => {
    const runner = await run({
      pgPool,
      schema: config.schema,
      concurrency: config.concurrency,
      taskList: { deliver },
      noHandleSignals: true,
      logger,
      ...(config.graphileBatching
        ? { preset: { worker: { localQueue: { size: 2 * config.concurrency }, completeJobBatchDelay: 0 } } }
        : {}),
    });
    return {
      async stop() {
        await runner.stop();
        await sender.close();
        await pgPool.end();
        return done;
      },
    };
  };
});
