/**
 * A hookline worker process for bench/postgres: `registry.worker({ concurrency })` on
 * `postgresStore` over its own pg pool. hookline renders, signs and POSTs each delivery itself
 * (its default undici transport: one keep-alive pool per origin).
 */
import pg from 'pg';
import { WebhookRegistry } from '../../../src/index.js';
import { postgresStore } from '../../../src/stores/postgres/index.js';
import { registerNoopSdk } from '../../shared/otel.js';
import { openConnections, serveWorker } from './protocol.js';

await serveWorker(async (config) => {
  // The SDK is registered before the registry is made: a registry decides then whether it has telemetry.
  if (config.otel) registerNoopSdk();
  const pool = new pg.Pool({
    connectionString: config.url,
    max: config.poolMax,
    idleTimeoutMillis: 0,
    application_name: config.appName,
    ...(config.asyncCommit ? { options: '-c synchronous_commit=off' } : {}),
  });
  pool.on('error', () => undefined);
  await openConnections(pool, config.poolMax);
  const registry = new WebhookRegistry({
    store: postgresStore({
      db: pool,
      schema: config.schema,
      ...(config.recordDelayMs === undefined ? {} : { recordDelayMs: config.recordDelayMs }),
    }),
  });
  const worker = registry.worker({
    concurrency: config.concurrency,
    perWebhookConcurrency: config.concurrency,
    ssrf: { allowPrivateNetworks: true },
    autoDisable: false,
  });
  let succeeded = 0;
  worker.on('delivery.succeeded', () => {
    succeeded++;
  });
  worker.on('error', ({ error }) => console.error('hookline worker error:', error.message));
  return async () => {
    worker.start();
    return {
      async stop() {
        await worker.stop();
        await pool.end();
        return succeeded;
      },
    };
  };
});
