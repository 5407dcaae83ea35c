import { command } from '../args.js';
import { CONNECTION_OPTIONS } from '../connect.js';
import { json, out } from '../output.js';
import { withRegistry } from '../session.js';
import { deliveryView } from './deliveries.js';

/** `hookline cancel`: stops a pending delivery's retries. */
export const cancelCommand = command({
  name: 'cancel',
  summary: "Stop a pending delivery's retries (it ends canceled).",
  options: {
    ...CONNECTION_OPTIONS,
    scope: { type: 'string', value: '<scope>', description: 'The scope', required: true },
    delivery: { type: 'string', value: '<id>', description: 'The delivery id (msg_…)', required: true },
    reason: { type: 'string', value: '<text>', description: 'Why, kept as its last error' },
    json: { type: 'boolean', description: 'Print the canceled delivery as JSON' },
  },
  examples: ['hookline cancel --scope acme --delivery msg_01JD0C6V8R9Q2X3Y4Z5A6B7C8D'],
  async run(values) {
    return withRegistry(values, async (registry) => {
      const delivery = await registry.cancel(
        values.scope,
        values.delivery,
        values.reason === undefined ? undefined : { reason: values.reason },
      );
      out(
        values.json ? json(deliveryView(delivery)) : `canceled ${delivery.id} (state: ${delivery.state})\n`,
      );
      return 0;
    });
  },
});
