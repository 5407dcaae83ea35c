/**
 * The workload bench/pipeline and bench/backlog share: `webhooks` signed webhooks of one scope,
 * each subscribed to its own event type, and order notifications of about 600 bytes spread over
 * them in turn.
 */
import type { WebhookRegistry } from '../../src/index.js';

export const BENCH_SCOPE = 'bench';
const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

/** Creates the webhooks, all pointing at `http://127.0.0.1:<port>/hook`. */
export async function createOrderWebhooks(
  registry: WebhookRegistry,
  options: { port: number; webhooks: number; typePrefix: string },
): Promise<void> {
  for (let i = 0; i < options.webhooks; i++) {
    await registry.create(BENCH_SCOPE, {
      url: `http://127.0.0.1:${options.port}/hook`,
      eventTypes: [`${options.typePrefix}${i}`],
      secrets: [SECRET],
    });
  }
}

/** Emits `count` order notifications, one after another, each matching one webhook. */
export async function emitOrders(
  registry: WebhookRegistry,
  options: { count: number; webhooks: number; typePrefix: string },
): Promise<void> {
  for (let i = 0; i < options.count; i++) {
    await registry.emit({
      scope: BENCH_SCOPE,
      type: `${options.typePrefix}${i % options.webhooks}`,
      data: {
        order: `ORDER-${i}`,
        amount: 'EUR:12.50',
        items: [{ sku: 'tee', qty: 2 }],
        note: 'x'.repeat(300),
      },
    });
  }
}
