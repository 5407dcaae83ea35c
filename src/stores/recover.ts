/**
 * Bulk recovery over a store: the options of `registry.recover()`, their checks, and the loop
 * that streams through the store's {@link Store.recoverDeliveries} batch by batch (bounded
 * memory whatever the number of deliveries: one batch's counters at a time, never a list of
 * ids).
 *
 * @module
 */
import { HooklineError, invalidOption, ValidationError, type ValidationIssue } from '../errors.js';
import { checkOptionalBoolean, checkOptionalFunction, checkOptionsObject } from '../options.js';
import type { RecoverableState, RecoverDeliveriesResult, Store } from './types.js';

/** Deliveries one batch of `registry.recover()` looks at by default: 500. */
export const DEFAULT_RECOVER_BATCH_SIZE = 500;

/** The largest `batchSize` of `registry.recover()`: 10 000. */
export const MAX_RECOVER_BATCH_SIZE = 10_000;

/** Most event types one recovery may filter by: 1 000. */
const MAX_RECOVER_TYPES = 1_000;

/**
 * Options of `registry.recover()`.
 *
 * @example
 * ```ts
 * const options: RecoverOptions = { scope: 'acme', since: new Date(Date.now() - 86_400_000), states: ['failed', 'canceled'] };
 * ```
 */
export interface RecoverOptions {
  /** The scope whose deliveries are recovered; no other scope is read or changed. */
  scope: string;
  /** Deliveries that reached their final state (`updatedAt`) at or after this instant. */
  since: Date;
  /**
   * ... and before this instant (exclusive). Default, and at most: when the call starts, so
   * deliveries that fail again while the recovery runs are not picked up again by it.
   */
  until?: Date;
  /** Only this webhook's deliveries (it must exist in the scope). Default: every webhook. */
  webhookId?: number;
  /** Only deliveries of these event types (exact names, no wildcards). Default: every type. */
  types?: readonly string[];
  /** The final states to recover. Default `['failed']`. */
  states?: readonly RecoverableState[];
  /** Deliveries per batch (one store call, one statement on PostgreSQL), 1 to 10 000. Default 500. */
  batchSize?: number;
  /** Count only: change nothing. Default `false`. */
  dryRun?: boolean;
  /** Called after every batch with the totals so far (a throw stops the recovery there). */
  onProgress?: (progress: RecoverProgress) => void;
  /** Stops the recovery before its next batch (batches done stay done); it rejects with `signal.reason`. */
  signal?: AbortSignal;
}

/**
 * The totals of a recovery so far (`onProgress`), or in the end (`registry.recover()`'s result).
 *
 * @example
 * ```ts
 * const progress: RecoverProgress = { matched: 1200, queued: 1150, skipped: 50 };
 * ```
 */
export interface RecoverProgress {
  /** Deliveries found in the range, states and filters. */
  matched: number;
  /** Of those, the ones queued again (0 in a dry run). */
  queued: number;
  /** Of those, the ones left as they were because their webhook is disabled or deleted. */
  skipped: number;
}

/**
 * What `registry.recover()` returns: the totals. In a dry run `queued` is 0 and
 * `matched - skipped` is what a real run would queue.
 *
 * @example
 * ```ts
 * const { matched, queued } = await registry.recover({ scope: 'acme', since });
 * ```
 */
export type RecoverResult = RecoverProgress;

/** The checked options, ready for the store. */
export interface RecoverPlan {
  scope: string;
  since: Date;
  until: Date;
  webhookId: number | null;
  types: string[] | null;
  states: RecoverableState[];
  batchSize: number;
  dryRun: boolean;
  onProgress: ((progress: RecoverProgress) => void) | undefined;
  signal: AbortSignal | undefined;
}

const isDate = (value: unknown): value is Date => value instanceof Date && !Number.isNaN(value.getTime());

/**
 * Checks the options of `registry.recover()` at `start` (when the call began): `invalid_option`
 * for options of the wrong kind (not an object, `dryRun` not a boolean, `onProgress` not a
 * function, `signal` not an AbortSignal), `ValidationError` for values out of range (a bad
 * date, `until` not later than `since`, an unknown state, a `batchSize` outside 1 to 10 000,
 * types that are not names). `checkScope` and `checkWebhookId` validate those as every scoped
 * call does.
 *
 * @example
 * ```ts
 * const plan = planRecovery(options, new Date(), (s) => s, (id) => id);
 * ```
 */
export function planRecovery(
  options: RecoverOptions,
  start: Date,
  checkScope: (scope: string) => string,
  checkWebhookId: (id: number) => number,
): RecoverPlan {
  const where = 'registry.recover()';
  checkOptionsObject(where, options);
  checkOptionalBoolean(where, 'dryRun', options.dryRun);
  checkOptionalFunction(where, 'onProgress', options.onProgress, 'a function (progress) => void');
  if (options.signal !== undefined && !(options.signal instanceof AbortSignal))
    throw invalidOption(where, 'signal', 'an AbortSignal', options.signal);
  const scope = checkScope(options.scope);
  const issues: ValidationIssue[] = [];
  if (!isDate(options.since))
    issues.push({ path: ['since'], code: 'invalid_date', message: 'since must be a valid Date.' });
  if (options.until !== undefined && !isDate(options.until))
    issues.push({ path: ['until'], code: 'invalid_date', message: 'until must be a valid Date.' });
  // Never later than the start: what fails again during the recovery is not taken up again.
  const until =
    options.until !== undefined && isDate(options.until) && options.until.getTime() < start.getTime()
      ? options.until
      : start;
  if (issues.length === 0 && options.since.getTime() >= until.getTime()) {
    issues.push({
      path: ['until'],
      code: 'invalid_range',
      message: 'until (default and at most: now) must be later than since.',
    });
  }
  const states = options.states ?? ['failed'];
  if (!Array.isArray(states) || states.length === 0) {
    issues.push({
      path: ['states'],
      code: 'invalid_states',
      message: "states must be a non-empty list of 'failed' and 'canceled'.",
    });
  } else {
    states.forEach((state, i) => {
      if (state !== 'failed' && state !== 'canceled')
        issues.push({
          path: ['states', i],
          code: 'invalid_state',
          message: `Unknown state ${JSON.stringify(state)}: only 'failed' and 'canceled' can be recovered.`,
        });
    });
  }
  const types = options.types;
  if (types !== undefined) {
    if (!Array.isArray(types) || types.length > MAX_RECOVER_TYPES) {
      issues.push({
        path: ['types'],
        code: 'invalid_types',
        message: `types must be a list of at most ${MAX_RECOVER_TYPES} event types.`,
      });
    } else {
      types.forEach((type, i) => {
        if (typeof type !== 'string' || type.length === 0 || type.length > 200 || /[*\0]/.test(type))
          issues.push({
            path: ['types', i],
            code: 'invalid_type',
            message: 'An event type is 1 to 200 characters, without "*" or NUL.',
          });
      });
    }
  }
  const batchSize = options.batchSize ?? DEFAULT_RECOVER_BATCH_SIZE;
  if (!Number.isSafeInteger(batchSize) || batchSize < 1 || batchSize > MAX_RECOVER_BATCH_SIZE) {
    issues.push({
      path: ['batchSize'],
      code: 'invalid_number',
      message: `batchSize must be an integer from 1 to ${MAX_RECOVER_BATCH_SIZE}.`,
    });
  }
  if (issues.length > 0) throw new ValidationError(issues);
  const webhookId = options.webhookId === undefined ? null : checkWebhookId(options.webhookId);
  return {
    scope,
    since: options.since,
    until,
    webhookId,
    types: types === undefined ? null : [...new Set(types)],
    states: [...new Set(states)],
    batchSize,
    dryRun: options.dryRun === true,
    onProgress: options.onProgress,
    signal: options.signal,
  };
}

/**
 * Runs a checked recovery: one `store.recoverDeliveries` call per batch until the store says
 * the scan is over, each queued delivery due at `now()` of its batch. Throws
 * `store_unsupported` when the store has no `recoverDeliveries`.
 *
 * @example
 * ```ts
 * const result = await runRecovery(store, plan, () => new Date());
 * ```
 */
export async function runRecovery(store: Store, plan: RecoverPlan, now: () => Date): Promise<RecoverResult> {
  if (typeof store.recoverDeliveries !== 'function') {
    throw new HooklineError(
      'store_unsupported',
      `registry.recover() needs a store with a recoverDeliveries() method; the ${JSON.stringify(store.name)} store ` +
        'has none. Implement Store.recoverDeliveries (run storeConformance with capabilities.recoverDeliveries: true), ' +
        'or use memoryStore() or postgresStore(), which have it.',
    );
  }
  const total: RecoverProgress = { matched: 0, queued: 0, skipped: 0 };
  let cursor: string | null = null;
  do {
    plan.signal?.throwIfAborted();
    const batch: RecoverDeliveriesResult = await store.recoverDeliveries({
      scope: plan.scope,
      since: plan.since,
      until: plan.until,
      webhookId: plan.webhookId,
      types: plan.types,
      states: plan.states,
      now: now(),
      cursor,
      limit: plan.batchSize,
      dryRun: plan.dryRun,
    });
    total.matched += batch.matched;
    total.queued += batch.queued;
    total.skipped += batch.skipped;
    cursor = batch.cursor;
    plan.onProgress?.({ matched: total.matched, queued: total.queued, skipped: total.skipped });
  } while (cursor !== null);
  return total;
}
