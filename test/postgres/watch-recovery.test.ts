import { once } from 'node:events';
import net from 'node:net';
import pg from 'pg';
import { afterAll, beforeAll, it } from 'vitest';
import { WebhookRegistry } from '../../src/index.js';
import { postgresStore } from '../../src/stores/postgres/index.js';
import { type Receiver, startReceiver } from '../delivery/receiver.js';
import { DATABASE_URL, describeServer, dropSchema, serverPool, uniqueSchema } from './helpers.js';

/**
 * A TCP proxy in front of the real server that the test can take down and bring back: down,
 * it refuses connections and cuts the open ones, as a stopped or unreachable database does.
 */
async function startProxy(target: { host: string; port: number }) {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(target.port, target.host);
    sockets.add(client);
    sockets.add(upstream);
    const drop = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    client.pipe(upstream).pipe(client);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as net.AddressInfo).port;
  let up = true;
  return {
    port,
    async down() {
      if (!up) return;
      up = false;
      const closed = once(server, 'close');
      server.close();
      for (const socket of sockets) socket.destroy();
      sockets.clear();
      await closed;
    },
    async up() {
      if (up) return;
      up = true;
      server.listen(port, '127.0.0.1');
      await once(server, 'listening');
    },
  };
}

/** Resolves when `check()` holds after one of the events that feed it; fails after `ms`. */
function eventually(subscribe: (tick: () => void) => void, check: () => boolean, what: string, ms = 15_000) {
  return new Promise<void>((resolve, reject) => {
    if (check()) return resolve();
    const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms);
    subscribe(() => {
      if (check()) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
}

describeServer('wake-ups survive a database that goes away', () => {
  let admin: pg.Pool;
  let receiver: Receiver;
  const arrivals: (() => void)[] = [];
  beforeAll(async () => {
    admin = serverPool({ max: 2 });
    receiver = await startReceiver();
    receiver.route('/hook', (_req, res) => {
      res.end('ok');
      for (const tick of arrivals) tick();
    });
  });
  afterAll(async () => {
    await receiver.close();
    await admin.end();
  });

  const target = () => {
    const url = new URL(DATABASE_URL ?? 'postgres://127.0.0.1:5432');
    return { host: url.hostname, port: Number(url.port || 5432) };
  };

  /** A worker on a pool through `proxy`, polling only once a minute: deliveries within seconds prove a wake-up. */
  async function setup(proxyPort: number) {
    const schema = uniqueSchema();
    const direct = postgresStore({ db: admin, schema });
    await direct.migrate();
    const url = new URL(DATABASE_URL ?? '');
    url.host = `127.0.0.1:${proxyPort}`;
    const app = `hookline_watch_${schema.slice(-12)}`;
    const proxied = new pg.Pool({
      connectionString: url.toString(),
      max: 4,
      connectionTimeoutMillis: 2_000,
      application_name: app,
    });
    proxied.on('error', () => undefined);
    const workerStore = postgresStore({ db: proxied, schema });
    const emitter = new WebhookRegistry({ store: direct });
    const worker = new WebhookRegistry({ store: workerStore }).worker({
      ssrf: { allow: ['127.0.0.1'] },
      pollIntervalMs: 60_000,
      timeoutMs: 5_000,
    });
    const errors: { during: string; message: string }[] = [];
    const errorTicks: (() => void)[] = [];
    worker.on('error', ({ error, during }) => {
      errors.push({ during, message: error.message });
      for (const tick of errorTicks) tick();
    });
    await emitter.create('acme', { url: receiver.url('/hook'), eventTypes: ['pay'] });
    return {
      emitter,
      worker,
      errors,
      /** Resolves once the worker's store has a LISTEN connection through the proxy again. */
      async listening() {
        const deadline = Date.now() + 15_000;
        for (;;) {
          const { rows } = await admin.query(
            `SELECT 1 FROM pg_stat_activity WHERE application_name = $1 AND state = 'idle' AND query = $2`,
            [app, `LISTEN "${workerStore.channel}"`],
          );
          if (rows.length > 0) return;
          if (Date.now() > deadline) throw new Error('the worker never listened again');
          await new Promise((resolve) => setTimeout(resolve, 25));
        }
      },
      onError: (tick: () => void) => errorTicks.push(tick),
      async close() {
        await worker.stop();
        await workerStore.close();
        await direct.close();
        await proxied.end();
        await dropSchema(admin, schema);
      },
    };
  }

  /** Emits one notification and waits for it to arrive (fails if only the minute's poll would send it). */
  async function deliveredSoon(emitter: WebhookRegistry): Promise<void> {
    const before = receiver.hits('/hook');
    await emitter.emit({ scope: 'acme', type: 'pay', data: {} });
    await eventually(
      (tick) => arrivals.push(tick),
      () => receiver.hits('/hook') > before,
      'the delivery',
    );
  }

  it('a worker started while the database is down sets up LISTEN once it is back', async () => {
    const proxy = await startProxy(target());
    const ctx = await setup(proxy.port);
    try {
      await proxy.down();
      ctx.worker.start();
      await eventually(
        ctx.onError,
        () => ctx.errors.filter((e) => e.during === 'watch').length >= 2,
        'the watch retries to be reported',
      );
      await proxy.up();
      await ctx.listening();
      // The emit goes straight to the database; only the LISTEN set up since wakes the worker.
      await deliveredSoon(ctx.emitter);
    } finally {
      await proxy.up();
      await ctx.close();
    }
  });

  it('a LISTEN connection that drops is re-established with backoff, and the loss is reported', async () => {
    const proxy = await startProxy(target());
    const ctx = await setup(proxy.port);
    try {
      ctx.worker.start();
      await deliveredSoon(ctx.emitter); // LISTEN is up
      await proxy.down();
      await eventually(
        ctx.onError,
        () => ctx.errors.some((e) => e.during === 'watch' && /LISTEN connection was lost/.test(e.message)),
        'the lost LISTEN connection to be reported',
      );
      await proxy.up();
      await ctx.listening();
      await deliveredSoon(ctx.emitter);
      await deliveredSoon(ctx.emitter);
    } finally {
      await proxy.up();
      await ctx.close();
    }
  });
});
