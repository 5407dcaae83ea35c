import type { WebhookWorker } from '../delivery/worker.js';
import type { Delivery, DeliveryState } from '../model.js';
import type { WebhookRegistry } from '../registry/registry.js';

/** Options of {@link waitForDelivery}. */
export interface WaitForDeliveryOptions {
  registry: WebhookRegistry;
  worker: WebhookWorker;
  scope: string;
  deliveryId: string;
  /** The states to wait for. Default: the final ones, `succeeded`, `failed` and `canceled`. */
  states?: readonly DeliveryState[];
}

/**
 * Resolves with the delivery once it reaches one of `states` (default: any final state),
 * driven by the worker's events, not by polling or sleeping. Resolves at once when the
 * delivery is already there.
 *
 * @example
 * ```ts
 * const { deliveryIds } = await registry.emit(notification);
 * worker.start();
 * const delivery = await waitForDelivery({ registry, worker, scope: 'acme', deliveryId: deliveryIds[0]! });
 * expect(delivery.state).toBe('succeeded');
 * ```
 */
export function waitForDelivery(options: WaitForDeliveryOptions): Promise<Delivery> {
  const states = options.states ?? ['succeeded', 'failed', 'canceled'];
  return new Promise<Delivery>((resolve, reject) => {
    const unsubscribe: (() => void)[] = [];
    let settled = false;
    const check = () => {
      options.registry.getDelivery(options.scope, options.deliveryId).then(
        (delivery) => {
          if (!settled && states.includes(delivery.state)) {
            settled = true;
            for (const off of unsubscribe) off();
            resolve(delivery);
          }
        },
        (error: unknown) => {
          if (settled) return;
          settled = true;
          for (const off of unsubscribe) off();
          reject(error);
        },
      );
    };
    for (const event of [
      'delivery.succeeded',
      'delivery.retrying',
      'delivery.failed',
      'delivery.canceled',
    ] as const) {
      unsubscribe.push(
        options.worker.on(event, ({ delivery }) => {
          if (delivery.id === options.deliveryId) check();
        }),
      );
    }
    check();
  });
}
