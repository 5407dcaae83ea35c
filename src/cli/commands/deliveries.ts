import type { Delivery } from '../../model.js';
import { withoutCredentials } from '../../observability/channels.js';
import { command } from '../args.js';
import { CONNECTION_OPTIONS } from '../connect.js';
import { json, out, sanitize, table } from '../output.js';
import { withRegistry } from '../session.js';

/**
 * What is printed of a delivery: everything but the rendered request's headers and body (they
 * may carry credentials from header templates, and the body is the host's data).
 */
export function deliveryView(d: Delivery): Record<string, unknown> {
  return {
    id: d.id,
    scope: d.scope,
    webhookId: d.webhookId,
    notificationId: d.notificationId,
    type: d.type,
    event: d.event,
    method: d.request.method,
    url: withoutCredentials(d.request.url),
    state: d.state,
    attemptCount: d.attemptCount,
    nextAttemptAt: d.nextAttemptAt,
    lastStatus: d.lastStatus,
    lastError: d.lastError === null ? null : sanitize(d.lastError),
    ordered: d.ordered,
    orderingKey: d.orderingKey === null ? null : sanitize(d.orderingKey),
    pausesLine: d.pausesLine,
    createdAt: d.createdAt,
    updatedAt: d.updatedAt,
  };
}

/**
 * The "next attempt" column of `hookline deliveries`: the due time, or where an ordered
 * delivery waits (`waiting in line` behind its line's head) or pauses its line.
 *
 * @example
 * ```ts
 * nextAttemptColumn(delivery); // a Date, 'waiting in line', 'line paused here' or null
 * ```
 */
export function nextAttemptColumn(d: Delivery): Date | string | null {
  if (d.pausesLine) return 'line paused here';
  if (d.state === 'pending' && d.ordered && d.nextAttemptAt === null) return 'waiting in line';
  return d.nextAttemptAt;
}

/** The scope's deliveries, newest first: of one webhook, or of every webhook merged. */
async function newest(
  registry: import('../../registry/registry.js').WebhookRegistry,
  scope: string,
  webhookId: number | undefined,
  limit: number,
): Promise<Delivery[]> {
  if (webhookId !== undefined) {
    return (await registry.deliveries(scope, webhookId, { pageSize: limit })).items;
  }
  const webhooks: number[] = [];
  for (let page = 1; ; page++) {
    const { items } = await registry.list(scope, { page, pageSize: 1000 });
    webhooks.push(...items.map((w) => w.id));
    if (items.length < 1000) break;
  }
  const all: Delivery[] = [];
  for (const id of webhooks) all.push(...(await registry.deliveries(scope, id, { pageSize: limit })).items);
  all.sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime() || (a.id < b.id ? 1 : -1));
  return all.slice(0, limit);
}

/** `hookline deliveries`: the delivery log of a scope or one webhook. */
export const deliveriesCommand = command({
  name: 'deliveries',
  summary: 'The deliveries of a scope (or one webhook), newest first.',
  options: {
    ...CONNECTION_OPTIONS,
    scope: { type: 'string', value: '<scope>', description: 'The scope', required: true },
    webhook: { type: 'integer', value: '<id>', description: 'Only this webhook' },
    limit: { type: 'integer', description: 'How many (at most 1000)', default: 50 },
    json: { type: 'boolean', description: 'Print as JSON' },
  },
  examples: ['hookline deliveries --scope acme --webhook 7 --limit 20'],
  async run(values) {
    const limit = Math.min(values.limit, 1000);
    return withRegistry(values, async (registry) => {
      const items = await newest(registry, values.scope, values.webhook, limit);
      if (values.json) {
        out(json(items.map(deliveryView)));
        return 0;
      }
      out(
        table(items, [
          { header: 'id', get: (d) => d.id },
          { header: 'webhook', get: (d) => d.webhookId, numeric: true },
          { header: 'type', get: (d) => d.type, max: 40 },
          { header: 'state', get: (d) => d.state },
          { header: 'attempts', get: (d) => d.attemptCount, numeric: true },
          { header: 'status', get: (d) => d.lastStatus, numeric: true },
          { header: 'created', get: (d) => d.createdAt },
          { header: 'next attempt', get: nextAttemptColumn },
          { header: 'last error', get: (d) => d.lastError, max: 50 },
        ]),
      );
      return 0;
    });
  },
});
