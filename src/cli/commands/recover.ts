import type { RecoverOptions, RecoverProgress } from '../../stores/recover.js';
import { command, UsageError } from '../args.js';
import { CONNECTION_OPTIONS } from '../connect.js';
import { err, json, out } from '../output.js';
import { progress } from '../progress.js';
import { withRegistry } from '../session.js';
import { parseInstant } from '../time.js';

/** Deliveries left alone because their webhook is disabled or deleted. */
function skippedNote(skipped: number): string {
  return skipped > 0 ? `; ${skipped} skipped (webhook disabled or deleted: enable it first)` : '';
}

/** `hookline recover`: re-queues the deliveries that ended failed (or canceled) in a time range. */
export const recoverCommand = command({
  name: 'recover',
  summary: 'Re-queue the deliveries of a scope that ended failed (or canceled) in a time range.',
  details:
    'Counts the matching deliveries first, then re-queues them in batches (same ids, attempts\n' +
    'start again), with progress on stderr and the final count on stdout. Running it twice queues\n' +
    'nothing new: a delivery pending again no longer matches. Ctrl-C stops between batches.',
  options: {
    ...CONNECTION_OPTIONS,
    scope: { type: 'string', value: '<scope>', description: 'The scope', required: true },
    since: {
      type: 'string',
      value: '<when>',
      description: 'Ended at or after: ISO 8601 or an age (24h, 7d)',
      required: true,
    },
    until: {
      type: 'string',
      value: '<when>',
      description: 'Ended before: ISO 8601 or an age (default: now)',
    },
    webhook: { type: 'integer', value: '<id>', description: 'Only this webhook' },
    type: { type: 'string', multiple: true, value: '<type>', description: 'Only this event type' },
    state: {
      type: 'string',
      multiple: true,
      value: '<state>',
      description: 'Final state to recover (default: failed)',
      choices: ['failed', 'canceled'],
    },
    'batch-size': { type: 'integer', description: 'Deliveries per batch (default 500)' },
    'dry-run': { type: 'boolean', description: 'Count only; queue nothing' },
    json: { type: 'boolean', description: 'Print { matched, queued, skipped, dryRun } as JSON' },
  },
  examples: [
    'hookline recover --scope acme --since 24h',
    'hookline recover --scope acme --webhook 7 --since 2026-05-01T00:00:00Z --until 2026-05-02T00:00:00Z --dry-run',
    'hookline recover --scope acme --since 7d --state failed --state canceled --type order.paid',
  ],
  async run(values) {
    const now = new Date();
    const since = parseInstant(values.since, '--since', now);
    const until = values.until === undefined ? undefined : parseInstant(values.until, '--until', now);
    if (until !== undefined && until.getTime() < since.getTime()) {
      throw new UsageError('--until must not be before --since.');
    }
    const states = (values.state.length > 0 ? [...new Set(values.state)] : ['failed']) as (
      | 'failed'
      | 'canceled'
    )[];
    const base: RecoverOptions = {
      scope: values.scope,
      since,
      // Fixed now, so the count and the real run cover the same range.
      until: until ?? now,
      states,
      ...(values.webhook === undefined ? {} : { webhookId: values.webhook }),
      ...(values.type.length > 0 ? { types: values.type } : {}),
      ...(values['batch-size'] === undefined ? {} : { batchSize: values['batch-size'] }),
    };
    return withRegistry(values, async (registry) => {
      const recover = (options: RecoverOptions) => registry.recover(options);
      const controller = new AbortController();
      const onSigint = () => {
        if (controller.signal.aborted) process.exit(130);
        err('\nhookline recover: stopping after this batch (Ctrl-C again to quit at once)\n');
        controller.abort();
      };
      process.on('SIGINT', onSigint);
      try {
        const counted = await recover({ ...base, dryRun: true, signal: controller.signal });
        if (values['dry-run'] || counted.matched === 0 || controller.signal.aborted) {
          const result = { matched: counted.matched, queued: 0, skipped: counted.skipped };
          out(
            values.json
              ? json({ ...result, dryRun: values['dry-run'] === true })
              : `${counted.matched} deliveries match${skippedNote(counted.skipped)}${values['dry-run'] ? ' (dry run: nothing queued)' : ''}\n`,
          );
          return controller.signal.aborted ? 130 : 0;
        }
        const bar = progress('recovering', counted.matched);
        let seen: RecoverProgress = { matched: 0, queued: 0, skipped: 0 };
        let result: RecoverProgress;
        try {
          result = await recover({
            ...base,
            signal: controller.signal,
            onProgress: (p) => {
              seen = p;
              bar.update(p.matched, `(${p.queued} queued)`);
            },
          });
        } catch (error) {
          if (!controller.signal.aborted) throw error;
          result = seen;
        } finally {
          bar.finish();
        }
        const interrupted = controller.signal.aborted;
        out(
          values.json
            ? json({ ...result, dryRun: false, ...(interrupted ? { interrupted: true } : {}) })
            : `queued ${result.queued} of ${result.matched} matching deliveries${skippedNote(result.skipped)}${interrupted ? ' (interrupted: run again to continue)' : ''}\n`,
        );
        return interrupted ? 130 : 0;
      } finally {
        process.off('SIGINT', onSigint);
      }
    });
  },
});
