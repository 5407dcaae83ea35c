/**
 * The world the browser tests (and the README screenshots) look at: the node-http example
 * started in-process with its workers allowed to reach 127.0.0.1, a receiver on 127.0.0.1,
 * webhooks in two scopes, and notifications emitted and delivered before the browser opens
 * anything. Every delivery is awaited through the worker's events (`waitForDelivery`), never
 * with a sleep.
 *
 * The registries make a single attempt per delivery (no retries), so a failed answer leaves a
 * `failed` delivery at once.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { start } from '../../examples/node-http/server.js';
import type { RunningHandlers } from '../../examples/shared/handlers.js';
import type {
  Clock,
  Delivery,
  Notification,
  RetryPolicy,
  Webhook,
  WebhookRegistry,
  WebhookWorker,
} from '../../src/index.js';
import { waitForDelivery } from '../../src/testing/index.js';

/** What the receiver answers on `/evil`: markup that must show as text and never run. */
export const EVIL_BODY = '<script>window.__xss=1</script><img src=x onerror="window.__xss=2">';
/** A receiver credential in the `ok` webhook's header template: the page must never show it. */
export const RECEIVER_SECRET = 's3cr3t-receiver-token';

/** One attempt per delivery: any failure fails the delivery for good. */
const SINGLE_ATTEMPT: RetryPolicy = { name: 'single-attempt', delaysMs: [] };

/**
 * The system clock shifted by `offsetMs` (timers run in real time): the screenshots set it
 * back a day and move it forward hour by hour, so the charts have a day of history.
 */
export class ShiftedClock implements Clock {
  offsetMs = 0;
  now(): number {
    return Date.now() + this.offsetMs;
  }
  setTimeout(callback: () => void, ms: number): unknown {
    const timer = setTimeout(callback, ms);
    timer.unref();
    return timer;
  }
  clearTimeout(handle: unknown): void {
    clearTimeout(handle as ReturnType<typeof setTimeout>);
  }
}

/** A receiver on 127.0.0.1: `/ok` 200, `/evil` 500 with {@link EVIL_BODY}, `/flaky` as set. */
export interface Receiver {
  url: string;
  /** Whether `/flaky` fails (503) or succeeds (204). Default `true`. */
  flakyFails: boolean;
  /** How long to take for an answer, in ms (default none: at once; the screenshots vary it). */
  delayMs: (() => number) | null;
  /** Requests received, per path. */
  readonly hits: Map<string, number>;
  close(): Promise<void>;
}

async function startReceiver(): Promise<Receiver> {
  const hits = new Map<string, number>();
  const receiver: Receiver = {
    url: '',
    flakyFails: true,
    delayMs: null,
    hits,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
  const answer = (req: IncomingMessage, res: ServerResponse) => {
    const path = req.url ?? '/';
    hits.set(path, (hits.get(path) ?? 0) + 1);
    if (path === '/ok') {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"received":true}');
    } else if (path === '/evil') {
      res
        .writeHead(500, { 'content-type': 'text/html', 'x-evil': '<b onmouseover=alert(1)>' })
        .end(EVIL_BODY);
    } else if (path === '/flaky' && receiver.flakyFails) {
      res.writeHead(503, { 'content-type': 'text/plain' }).end('down for maintenance');
    } else if (path === '/flaky') {
      res.writeHead(204).end();
    } else {
      res.writeHead(404).end();
    }
  };
  const server: Server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const delay = receiver.delayMs?.() ?? 0;
      if (delay > 0) setTimeout(() => answer(req, res), delay);
      else answer(req, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return receiver;
}

/** The webhooks of the scenario. */
export interface ScenarioHooks {
  /** bigevents: order.paid → `/ok` (with an `Authorization` header template). */
  ok: Webhook;
  /** bigevents: order.canceled → `/evil`. */
  evil: Webhook;
  /** bigevents: order.placed → `/flaky`. */
  flaky: Webhook;
  /** bigevents: refund.created → `/ok`; the one the tests disable. */
  spare: Webhook;
  /** shop: order.paid → `/ok`. */
  shop: Webhook;
}

/** The running scenario. */
export interface Scenario {
  /** The example server's base URL, e.g. `http://127.0.0.1:41234`. */
  url: string;
  /** The pretix UI's base URL: `${url}/ui`. */
  ui: string;
  /** The pretix registry (scopes `bigevents` and `shop`) and its worker. */
  registry: WebhookRegistry;
  worker: WebhookWorker;
  receiver: Receiver;
  hooks: ScenarioHooks;
  /** The deliveries made while setting up, by webhook, in the order emitted (all finished). */
  deliveries: { ok: Delivery[]; evil: Delivery[]; flaky: Delivery[]; spare: Delivery[]; shop: Delivery[] };
  /** The id of the notification of `deliveries.ok[0]`. */
  firstPaidNotification: string;
  /** Emits a notification and waits until all its deliveries are finished. */
  emitAndDeliver(notification: Notification): Promise<Delivery[]>;
  close(): Promise<void>;
}

/** Options of {@link startScenario}. */
export interface ScenarioOptions {
  /** Paid orders emitted in bigevents (each one delivery to `ok`). Default 3. */
  paidOrders?: number;
  /**
   * A day of traffic before the deliveries above: with this clock set back 24 hours, then
   * moved forward an hour at a time, a few orders each hour (a failing stretch of the flaky
   * receiver included). Default none.
   */
  history?: ShiftedClock;
  /** How long the receiver takes per answer, in ms. Default: it answers at once. */
  receiverDelayMs?: () => number;
}

/** A small seeded random number generator (the history is the same every run). */
function seeded(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2_147_483_648;
    return state / 2_147_483_648;
  };
}

/**
 * Starts the receiver and the example (workers on, 127.0.0.1 allowed), creates the webhooks
 * and emits the notifications, and resolves when every delivery has finished.
 */
export async function startScenario(options: ScenarioOptions = {}): Promise<Scenario> {
  const receiver = await startReceiver();
  receiver.delayMs = options.receiverDelayMs ?? null;
  let example: RunningHandlers | undefined;
  try {
    const clock = options.history;
    if (clock) clock.offsetMs = -24 * 3_600_000;
    example = await start({
      port: 0,
      worker: true,
      allowHosts: ['127.0.0.1'],
      retryPolicy: SINGLE_ATTEMPT,
      ...(clock ? { clock } : {}),
    });
    const registry = example.registries.pretix;
    const worker = example.workers[0];
    if (worker === undefined) throw new Error('the example started no worker');
    const hook = (scope: string, path: string, eventType: string, extra: Partial<Webhook> = {}) =>
      registry.create(scope, {
        url: `${receiver.url}${path}`,
        eventTypes: [eventType],
        ...(extra.comment ? { comment: extra.comment } : {}),
        ...(extra.headerTemplate ? { headerTemplate: extra.headerTemplate } : {}),
      });
    const hooks: ScenarioHooks = {
      ok: await hook('bigevents', '/ok', 'pretix.event.order.paid', {
        comment: 'Accounting',
        headerTemplate: `Authorization: Bearer ${RECEIVER_SECRET}`,
      }),
      evil: await hook('bigevents', '/evil', 'pretix.event.order.canceled', { comment: 'Mailing list' }),
      flaky: await hook('bigevents', '/flaky', 'pretix.event.order.placed', { comment: 'Warehouse' }),
      spare: await hook('bigevents', '/ok', 'pretix.event.order.refund.created'),
      shop: await hook('shop', '/ok', 'pretix.event.order.paid'),
    };

    const emitAndDeliver = async (notification: Notification): Promise<Delivery[]> => {
      const { deliveryIds } = await registry.emit(notification);
      return Promise.all(
        deliveryIds.map((deliveryId) =>
          waitForDelivery({ registry, worker, scope: notification.scope, deliveryId }),
        ),
      );
    };
    const order = (scope: string, type: string, code: string, extra: Record<string, unknown> = {}) =>
      emitAndDeliver({ scope, type, event: 'democon', data: { code, total: '42.00', ...extra } });

    if (clock) {
      const random = seeded(19);
      for (let hour = 23; hour >= 1; hour--) {
        clock.offsetMs = -hour * 3_600_000 + Math.floor(random() * 1_800_000);
        receiver.flakyFails = hour >= 7 && hour <= 10;
        for (let i = Math.floor(2 + random() * 5); i > 0; i--) {
          await order('bigevents', 'pretix.event.order.paid', `H${hour}P${i}`);
        }
        if (random() < 0.6) await order('bigevents', 'pretix.event.order.placed', `H${hour}N`);
        if (hour % 6 === 0) await order('bigevents', 'pretix.event.order.refund.created', `H${hour}R`);
      }
      clock.offsetMs = 0;
      receiver.flakyFails = true;
    }

    const ok: Delivery[] = [];
    for (let i = 0; i < (options.paidOrders ?? 3); i++) {
      ok.push(...(await order('bigevents', 'pretix.event.order.paid', `PAID${i + 1}`)));
    }
    const evil = await order('bigevents', 'pretix.event.order.canceled', 'EVIL1', {
      note: '<script>window.__xss=3</script>',
    });
    const flaky = [
      ...(await order('bigevents', 'pretix.event.order.placed', 'PLACED1')),
      ...(await order('bigevents', 'pretix.event.order.placed', 'PLACED2')),
    ];
    const spare = await order('bigevents', 'pretix.event.order.refund.created', 'REFUND1');
    const shop = await order('shop', 'pretix.event.order.paid', 'SHOP1');
    const first = ok[0];
    if (first === undefined) throw new Error('no paid order was delivered');
    const running = example;
    return {
      url: running.url,
      ui: `${running.url}/ui`,
      registry,
      worker,
      receiver,
      hooks,
      deliveries: { ok, evil, flaky, spare, shop },
      firstPaidNotification: first.notificationId,
      emitAndDeliver,
      close: async () => {
        await running.close();
        await receiver.close();
      },
    };
  } catch (error) {
    await example?.close();
    await receiver.close();
    throw error;
  }
}
