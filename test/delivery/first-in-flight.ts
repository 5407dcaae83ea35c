/**
 * The revocation story shared by the memory and PostgreSQL tests: a webhook whose requests are
 * held, three deliveries to it, and a change made while the first one is in flight.
 */
import type { WebhookRegistry, WebhookWorker } from '../../src/index.js';
import type { HeldRequests } from './receiver.js';

/** Emits three notifications of type `pay` in scope `acme`; the ids of their deliveries. */
export async function emitThree(registry: WebhookRegistry): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < 3; i++) {
    const { deliveryIds } = await registry.emit({ scope: 'acme', type: 'pay', data: { n: i } });
    ids.push(...deliveryIds);
  }
  return ids;
}

/** Each delivery's state and number of attempts. */
export async function states(registry: WebhookRegistry, ids: string[]) {
  return Promise.all(
    ids.map(async (id) => {
      const delivery = await registry.getDelivery('acme', id);
      const attempts = await registry.attempts('acme', id);
      return [delivery.state, attempts.count] as const;
    }),
  );
}

/** The first delivery sent and recorded; the other two canceled without an attempt. */
export const ONE_SENT = [
  ['succeeded', 1],
  ['canceled', 0],
  ['canceled', 0],
] as const;

/**
 * A webhook at `hold` and three deliveries to it; the worker (not started yet) sends the first
 * and claims the next one ahead. While the first is in flight, `duringFirst` runs (it disables
 * or removes the webhook, or hides that from the worker); then the first is answered and the
 * worker drains (`afterDrain` may move the clock and drain again) and stops. Returns the
 * deliveries' ids, their states with attempt counts, and how many requests reached `hold`.
 */
export async function whileFirstInFlight(
  { registry, worker, hold }: { registry: WebhookRegistry; worker: WebhookWorker; hold: HeldRequests },
  duringFirst: (webhookId: number) => Promise<unknown>,
  afterDrain: () => Promise<void> = async () => undefined,
) {
  const hook = await registry.create('acme', { url: hold.url, eventTypes: ['pay'] });
  const before = hold.hits();
  const ids = await emitThree(registry);
  worker.start();
  await hold.until(1);
  await duringFirst(hook.id);
  hold.answer(200);
  await worker.drain();
  await afterDrain();
  await worker.stop();
  return { ids, states: await states(registry, ids), sent: hold.hits() - before };
}
