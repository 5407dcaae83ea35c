import type { Attempt } from '../../model.js';
import { command } from '../args.js';
import { CONNECTION_OPTIONS } from '../connect.js';
import { json, out, sanitize, table } from '../output.js';
import { withRegistry } from '../session.js';

/** An attempt with the receiver's text (body, headers, error) stripped of control characters. */
export function attemptView(a: Attempt): Record<string, unknown> {
  return {
    ...a,
    error: a.error === null ? null : sanitize(a.error),
    responseBody: sanitize(a.responseBody, true),
    responseHeaders: Object.fromEntries(
      Object.entries(a.responseHeaders).map(([k, v]) => [sanitize(k), sanitize(v)]),
    ),
  };
}

/** `hookline attempts`: the attempt log of one delivery. */
export const attemptsCommand = command({
  name: 'attempts',
  summary: 'The attempts of one delivery, newest first (status, duration, error, response).',
  options: {
    ...CONNECTION_OPTIONS,
    scope: { type: 'string', value: '<scope>', description: 'The scope', required: true },
    delivery: { type: 'string', value: '<id>', description: 'The delivery id (msg_…)', required: true },
    limit: { type: 'integer', description: 'How many (at most 1000)', default: 50 },
    body: { type: 'boolean', description: 'Also print each response body (table view)' },
    json: { type: 'boolean', description: 'Print as JSON (with response bodies and headers)' },
  },
  examples: ['hookline attempts --scope acme --delivery msg_01JD0C6V8R9Q2X3Y4Z5A6B7C8D --body'],
  async run(values) {
    return withRegistry(values, async (registry) => {
      const { items } = await registry.attempts(values.scope, values.delivery, {
        pageSize: Math.min(values.limit, 1000),
      });
      if (values.json) {
        out(json(items.map(attemptView)));
        return 0;
      }
      out(
        table(items, [
          { header: '#', get: (a) => a.attemptNumber, numeric: true },
          { header: 'started', get: (a) => a.startedAt },
          { header: 'status', get: (a) => a.status, numeric: true },
          { header: 'ok', get: (a) => (a.ok ? 'yes' : 'no') },
          { header: 'ms', get: (a) => a.durationMs, numeric: true },
          { header: 'error', get: (a) => a.error, max: 50 },
          { header: 'response', get: (a) => a.responseBody, max: 50 },
        ]),
      );
      if (values.body) {
        for (const a of items) {
          out(`\n--- attempt ${a.attemptNumber} (${a.status}) ---\n${sanitize(a.responseBody, true)}\n`);
        }
      }
      return 0;
    });
  },
});
