import type { RegistryStats } from '../../registry/stats.js';
import { command } from '../args.js';
import { CONNECTION_OPTIONS } from '../connect.js';
import { json, out, table } from '../output.js';
import { withRegistry } from '../session.js';

function age(ms: number | null): string {
  if (ms === null) return '-';
  if (ms < 1000) return `${ms} ms`;
  const s = ms / 1000;
  if (s < 120) return `${s.toFixed(1)} s`;
  if (s < 7200) return `${(s / 60).toFixed(1)} min`;
  return `${(s / 3600).toFixed(1)} h`;
}

/** The table view of {@link RegistryStats}. */
export function statsTable(stats: RegistryStats): string {
  const rows: [string, unknown][] = [
    ['pending', stats.pending],
    ['due', stats.due],
    ['in flight', stats.inFlight],
    ['oldest due at', stats.oldestDueAt],
    ['oldest due age', age(stats.oldestDueAgeMs)],
    ['failing webhooks', stats.failingWebhookCount],
  ];
  let text = table(rows, [
    { header: 'outbox', get: (r) => r[0] },
    { header: 'value', get: (r) => r[1] },
  ]);
  if (stats.scopes && stats.scopes.length > 0) {
    text += `\n${table(stats.scopes, [
      { header: 'scope', get: (s) => s.scope },
      { header: 'pending', get: (s) => s.pending, numeric: true },
      { header: 'due', get: (s) => s.due, numeric: true },
      { header: 'in flight', get: (s) => s.inFlight, numeric: true },
      { header: 'oldest due age', get: (s) => age(s.oldestDueAgeMs), numeric: true },
      { header: 'failing', get: (s) => s.failingWebhookCount, numeric: true },
    ])}`;
  }
  if (stats.failingWebhooks.length > 0) {
    text += `\n${table(stats.failingWebhooks, [
      { header: 'scope', get: (w) => w.scope },
      { header: 'webhook', get: (w) => w.webhookId, numeric: true },
      { header: 'enabled', get: (w) => (w.enabled ? 'yes' : 'no') },
      { header: 'failures', get: (w) => w.consecutiveFailures, numeric: true },
      { header: 'failing since', get: (w) => w.failingSince },
      { header: 'url', get: (w) => w.url },
    ])}`;
  }
  return text;
}

/** `hookline stats`: the outbox's health. */
export const statsCommand = command({
  name: 'stats',
  summary: 'Outbox health: pending, due, in flight, oldest due age, failing webhooks.',
  options: {
    ...CONNECTION_OPTIONS,
    scope: { type: 'string', value: '<scope>', description: 'Only this scope' },
    'per-scope': { type: 'boolean', description: 'Also the counters of each scope' },
    json: { type: 'boolean', description: 'Print registry.stats() as JSON' },
  },
  examples: ['hookline stats', 'hookline stats --per-scope --json | jq .due'],
  async run(values) {
    return withRegistry(values, async (registry) => {
      const stats = await registry.stats({
        ...(values.scope === undefined ? {} : { scope: values.scope }),
        ...(values['per-scope'] ? { perScope: true } : {}),
      });
      out(values.json ? json(stats) : statsTable(stats));
      return 0;
    });
  },
});
