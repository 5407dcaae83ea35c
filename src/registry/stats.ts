/**
 * `registry.stats()`: the outbox's health from the store's optional `outboxStats`, with the
 * age of the oldest due delivery by the registry's clock.
 *
 * @module
 */
import { HooklineError } from '../errors.js';
import { checkOptionalBoolean, checkOptionalString, checkOptionsObject } from '../options.js';
import type { OutboxStats, ScopeOutboxStats, Store } from '../stores/types.js';

/**
 * Options of {@link WebhookRegistry.stats}.
 *
 * @example
 * ```ts
 * const options: StatsOptions = { scope: 'acme' }; // one tenant's outbox
 * ```
 */
export interface StatsOptions {
  /** Only this scope's deliveries and webhooks. Default: every scope. */
  scope?: string;
  /** Also the counters of each scope, in `scopes`. Default `false`. */
  perScope?: boolean;
}

/**
 * The counters of one scope in {@link RegistryStats.scopes}, with the age of its oldest due
 * delivery.
 *
 * @example
 * ```ts
 * for (const s of stats.scopes ?? []) console.log(s.scope, s.due, s.oldestDueAgeMs);
 * ```
 */
export interface ScopeStats extends ScopeOutboxStats {
  /** `now - oldestDueAt` in milliseconds by the registry's clock; `null` when nothing is due. */
  oldestDueAgeMs: number | null;
}

/**
 * What {@link WebhookRegistry.stats} returns: the store's {@link OutboxStats} (pending, due,
 * in flight, oldest due, the failing webhooks and their count, `scopes` with `perScope`), the
 * instant they were taken at, and how long the oldest due delivery has waited.
 *
 * @example
 * ```ts
 * const { due, oldestDueAgeMs, failingWebhookCount } = await registry.stats();
 * const ready = oldestDueAgeMs === null || oldestDueAgeMs < 60_000;
 * ```
 */
export interface RegistryStats extends Omit<OutboxStats, 'scopes'> {
  /** When the counters were taken, by the registry's clock. */
  now: Date;
  /** `now - oldestDueAt` in milliseconds: how far behind the workers are; `null` when nothing is due. */
  oldestDueAgeMs: number | null;
  /** With `perScope: true`: each scope's counters (see {@link OutboxStats.scopes}). */
  scopes?: ScopeStats[];
}

const ageAt = (now: Date, at: Date | null): number | null =>
  at === null ? null : Math.max(0, now.getTime() - at.getTime());

/**
 * Checks the options of `registry.stats()`, asks the store, and adds the ages. Throws
 * `invalid_option` for options of the wrong type, and `store_unsupported` when the store has
 * no `outboxStats`. `checkScope` validates the scope's value as every scoped call does.
 *
 * @example
 * ```ts
 * const stats = await registryStats(store, new Date(), { perScope: true }, (s) => s);
 * ```
 */
export async function registryStats(
  store: Store,
  now: Date,
  options: StatsOptions,
  checkScope: (scope: string) => string,
): Promise<RegistryStats> {
  const where = 'registry.stats()';
  checkOptionsObject(where, options);
  checkOptionalString(where, 'scope', options.scope);
  checkOptionalBoolean(where, 'perScope', options.perScope);
  const scope = options.scope === undefined ? undefined : checkScope(options.scope);
  if (typeof store.outboxStats !== 'function') {
    throw new HooklineError(
      'store_unsupported',
      `registry.stats() needs a store with an outboxStats() method; the ${JSON.stringify(store.name)} store ` +
        'has none. Implement Store.outboxStats (run storeConformance with capabilities.outboxStats: true), ' +
        'or use memoryStore() or postgresStore(), which have it.',
    );
  }
  const perScope = options.perScope === true;
  const stats = await store.outboxStats({ now, ...(scope === undefined ? {} : { scope }), perScope });
  const { scopes, ...rest } = stats;
  const result: RegistryStats = { ...rest, now, oldestDueAgeMs: ageAt(now, stats.oldestDueAt) };
  if (scopes !== undefined) {
    result.scopes = scopes.map((s) => ({ ...s, oldestDueAgeMs: ageAt(now, s.oldestDueAt) }));
  }
  return result;
}
