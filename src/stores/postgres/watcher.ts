import { HooklineError } from '../../errors.js';
import { DUE_SIGNAL, signalAll } from '../signals.js';
import type { StoreSignal } from '../types.js';
import {
  isNotificationClient,
  isPGlite,
  isPool,
  type NotificationClient,
  type NotificationMessage,
  type Queryable,
} from './driver.js';
import { quoteIdent } from './migrations.js';
import { wrapError } from './sql-errors.js';

/** LISTEN for one store: wake-ups and webhook changes, from every process sharing the schema. */
export interface Watcher {
  /** Adds a listener; resolves once LISTEN is set up, rejects when it cannot be (no retry). */
  watch(listener: (signal: StoreSignal) => void): Promise<() => Promise<void>>;
  /** Tells this store's own listeners at once (a write of this store object). */
  signal(signal: StoreSignal): void;
  close(): Promise<void>;
}

/** Reconnect delays after a lost LISTEN connection: 100 ms doubling up to 5 s. */
const RECONNECT_MIN_MS = 100;
const RECONNECT_MAX_MS = 5_000;

const RESTORED: StoreSignal = Object.freeze({ type: 'restored' });

/**
 * A notification's payload as a signal: `''` is a wake-up; a webhook change is the JSON object
 * `{ s: scope, w: id, e: enabled | null }` that the store's webhook writes send. Anything else
 * (another program's payload on the channel) counts as a wake-up, which is always safe.
 */
export function parseSignal(payload: string | undefined): StoreSignal {
  if (!payload) return DUE_SIGNAL;
  try {
    const value: unknown = JSON.parse(payload);
    if (typeof value === 'object' && value !== null) {
      const { s, w, e } = value as { s?: unknown; w?: unknown; e?: unknown };
      const webhookId = typeof w === 'string' ? Number(w) : w;
      if (
        typeof s === 'string' &&
        typeof webhookId === 'number' &&
        Number.isSafeInteger(webhookId) &&
        (e === null || typeof e === 'boolean')
      ) {
        return { type: 'webhook', scope: s, webhookId, enabled: e };
      }
    }
  } catch {
    // not ours: a wake-up
  }
  return DUE_SIGNAL;
}

/**
 * LISTEN on one connection shared by every watcher of the store. PGlite: its own `listen()`.
 * pg: a dedicated client (from `connect`, `pool.connect()`, or `db` itself when it is a single
 * client). When that connection dies, every listener hears `lost`; the watcher reconnects with
 * backoff (100 ms doubling to 5 s) for as long as anyone listens, then says `restored`, after
 * which listeners treat everything as possibly changed (notifications may have been missed).
 * A notification whose payload is `ownPayload` is this store's own wake-up (see wake.ts), which
 * its listeners heard already; it is not passed on.
 */
export function createWatcher(
  db: Queryable,
  channel: string,
  connect: (() => Promise<NotificationClient>) | undefined,
  schema: string,
  ownPayload?: string,
): Watcher {
  const listeners = new Set<(signal: StoreSignal) => void>();
  let closed = false;
  const signal = (s: StoreSignal) => signalAll(listeners, s);

  if (!connect && isPGlite(db)) {
    const pglite = db;
    const stops = new Set<() => Promise<void>>();
    return {
      async watch(listener) {
        try {
          // Through signalAll, so a listener that throws leaves nothing uncaught (PGlite calls this
          // in a microtask of its own).
          const unlisten = await pglite.listen(channel, (payload) => {
            if (ownPayload === undefined || payload !== ownPayload)
              signalAll([listener], parseSignal(payload));
          });
          listeners.add(listener);
          let stopped = false;
          const stop = async () => {
            if (stopped) return;
            stopped = true;
            stops.delete(stop);
            listeners.delete(listener);
            await unlisten();
          };
          stops.add(stop);
          return stop;
        } catch (error) {
          throw wrapError(error, { schema, operation: 'watch' });
        }
      },
      signal,
      async close() {
        for (const stop of [...stops]) await stop().catch(() => undefined);
      },
    };
  }

  const shared = !connect && !isPool(db) && isNotificationClient(db) ? db : undefined;
  let client: NotificationClient | undefined;
  let connecting: Promise<void> | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let delay = RECONNECT_MIN_MS;

  const onNotification = (message: NotificationMessage) => {
    if (message.channel !== channel) return;
    // This store's own wake-up: its listeners were told when the emit committed.
    if (ownPayload !== undefined && message.payload === ownPayload) return;
    signal(parseSignal(message.payload));
  };
  const onError = (error: Error) => lost(error);
  const onEnd = () => lost(new Error('The LISTEN connection ended.'));

  const detach = (c: NotificationClient) => {
    c.removeListener('notification', onNotification);
    c.removeListener('error', onError);
    c.removeListener('end', onEnd);
  };

  const giveBack = (c: NotificationClient, error?: Error) => {
    if (c === shared) return;
    if (typeof c.release === 'function') c.release(error ?? undefined);
    else void c.end?.().catch(() => undefined);
  };

  const lost = (error: Error) => {
    const c = client;
    if (!c) return;
    client = undefined;
    detach(c);
    // Keep an error listener: a dying pg client may still emit one, and an unhandled one crashes.
    if (c !== shared) c.on('error', () => undefined);
    giveBack(c, error);
    if (closed || listeners.size === 0) return;
    signal({
      type: 'lost',
      error: new HooklineError(
        'store_failed',
        `PostgreSQL store (schema "${schema}"): the LISTEN connection was lost; wake-ups and webhook changes are missed until it is back (reconnecting).`,
        { cause: error },
      ),
    });
    scheduleReconnect();
  };

  const scheduleReconnect = () => {
    if (closed || listeners.size === 0 || timer) return;
    timer = setTimeout(() => {
      timer = undefined;
      open().then(
        () => {
          delay = RECONNECT_MIN_MS;
          if (client) signal(RESTORED);
        },
        () => {
          delay = Math.min(delay * 2, RECONNECT_MAX_MS);
          scheduleReconnect();
        },
      );
    }, delay);
    // A started worker keeps the process alive itself; this timer must not.
    timer.unref?.();
  };

  const open = (): Promise<void> => {
    if (client) return Promise.resolve();
    connecting ??= (async () => {
      let c: NotificationClient | undefined;
      try {
        if (shared) c = shared;
        else if (connect) c = await connect();
        else if (isPool(db)) c = (await db.connect()) as unknown as NotificationClient;
        else {
          throw new HooklineError(
            'store_failed',
            'watch() needs a connection that can LISTEN: pass a pg.Pool, a pg.Client, or notify: { connect }.',
          );
        }
        c.on('notification', onNotification);
        c.on('error', onError);
        c.on('end', onEnd);
        await c.query(`LISTEN ${quoteIdent(channel)}`);
        if (closed || listeners.size === 0) {
          detach(c);
          await c.query(`UNLISTEN ${quoteIdent(channel)}`).catch(() => undefined);
          giveBack(c);
          return;
        }
        client = c;
      } catch (error) {
        if (c) {
          detach(c);
          if (c !== shared) c.on('error', () => undefined);
          giveBack(c, error instanceof Error ? error : new Error(String(error)));
        }
        throw wrapError(error, { schema, operation: 'watch' });
      } finally {
        connecting = undefined;
      }
    })();
    return connecting;
  };

  const shutdown = async () => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    const c = client;
    client = undefined;
    if (!c) return;
    detach(c);
    if (c !== shared) c.on('error', () => undefined);
    await c.query(`UNLISTEN ${quoteIdent(channel)}`).catch(() => undefined);
    giveBack(c);
  };

  return {
    async watch(listener) {
      const entry = (s: StoreSignal) => listener(s);
      listeners.add(entry);
      try {
        await open();
      } catch (error) {
        listeners.delete(entry);
        if (listeners.size === 0) await shutdown();
        throw error;
      }
      let stopped = false;
      return async () => {
        if (stopped) return;
        stopped = true;
        listeners.delete(entry);
        if (listeners.size === 0) await shutdown();
      };
    },
    signal,
    async close() {
      closed = true;
      listeners.clear();
      await connecting?.catch(() => undefined);
      await shutdown();
    },
  };
}
