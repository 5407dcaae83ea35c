/**
 * The options of the conformance suite, the capability flags of an adapter, and the context
 * each part of the suite registers its cases with.
 *
 * @module
 */
import { expect, it } from 'vitest';
import type { Store } from '../../stores/types.js';

/**
 * What an adapter declares about the optional parts of the `Store` contract (the optional
 * methods `watch`, `webhooksVersion`, `close`, `outboxStats`, `scanWebhooks`, `replaceWebhookSecrets`,
 * `recoverDeliveries`, `cancelDelivery`, `searchDeliveries` and `webhookActivity`). For each flag:
 *
 * - `true`: the store has the method. The suite runs its cases, and each of them (plus one case
 *   named `declares <flag>: store.<flag> is a function`) fails when the method is missing.
 * - `false`: the store opts out. The suite runs none of its cases, and one case named
 *   `opted out of <flag>: store.<flag> is undefined` checks that the method is indeed absent, so
 *   the report shows what the adapter opted out of.
 * - absent (the default): detected from each test's store object. The cases run when the
 *   method is there and check nothing when it is not.
 *
 * Declaring every flag is recommended: a store that loses a method by mistake then fails instead
 * of silently skipping its promises.
 *
 * @example
 * ```ts
 * storeConformance({
 *   name: 'my-store',
 *   createStore: () => myStore(),
 *   capabilities: { watch: false, webhooksVersion: true, close: true, outboxStats: true },
 * });
 * ```
 */
export interface StoreConformanceCapabilities {
  /**
   * `Store.watch`: wake-ups and webhook-change signals. Without it workers are polled and read a
   * claimed delivery's webhook again before sending it. Default: detected.
   */
  watch?: boolean;
  /**
   * `Store.webhooksVersion`: a number per scope that grows by one with each webhook write.
   * Without it a registry keeps its compiled index of a scope until `registry.invalidate()`;
   * stores shared by several processes must have it. Default: detected.
   */
  webhooksVersion?: boolean;
  /** `Store.close`: releases what the store holds, safe to call twice. Default: detected. */
  close?: boolean;
  /**
   * `Store.outboxStats`: the outbox's health (pending, due, in flight, oldest due, failing
   * webhooks, per scope). Without it `registry.stats()` throws `store_unsupported`. Default:
   * detected.
   */
  outboxStats?: boolean;
  /**
   * `Store.scanWebhooks`: every scope's webhooks in id order, as stored. With
   * `replaceWebhookSecrets`, what `rotateSecrets` needs; without them it throws
   * `store_unsupported`. Default: detected.
   */
  scanWebhooks?: boolean;
  /**
   * `Store.replaceWebhookSecrets`: a compare-and-swap of one webhook's stored secrets, not
   * counted as an edit. Default: detected.
   */
  replaceWebhookSecrets?: boolean;
  /**
   * `Store.recoverDeliveries`: one batch of a bulk recovery (what `registry.recover()` needs;
   * without it, that throws `store_unsupported`). Default: detected.
   */
  recoverDeliveries?: boolean;
  /**
   * `Store.cancelDelivery`: stops a pending delivery's retries (what `registry.cancel()`
   * needs; without it, that throws `store_unsupported`). Default: detected.
   */
  cancelDelivery?: boolean;
  /**
   * `Store.enqueueMany`: several notifications stored in one atomic step (what
   * `registry.emitMany()` uses; without it, that calls `enqueue` per notification). Default:
   * detected.
   */
  enqueueMany?: boolean;
  /**
   * `Store.searchDeliveries`: a scope's delivery log, filtered and paged newest first by an
   * opaque cursor (what `registry.searchDeliveries()` and the delivery-log page need; without
   * it, that throws `store_unsupported`). Default: detected.
   */
  searchDeliveries?: boolean;
  /**
   * `Store.webhookActivity`: per webhook, the attempts of a window by outcome, duration
   * percentiles, the newest attempt and chart buckets (what `registry.webhookActivity()` needs;
   * without it, that throws `store_unsupported`). Default: detected.
   */
  webhookActivity?: boolean;
  /**
   * `Store.deliveryLine`: where a pending ordered delivery stands in its line (what
   * `registry.deliveryLine()` and the delivery-log page's "waiting behind" need; without it,
   * that throws `store_unsupported`). Default: detected.
   */
  deliveryLine?: boolean;
}

/**
 * Options of `storeConformance`.
 *
 * @example
 * ```ts
 * const options: StoreConformanceOptions = { name: 'my-store', createStore: () => myStore() };
 * ```
 */
export interface StoreConformanceOptions {
  /** Name shown in the test report, e.g. `memory` or `mysql`. */
  name: string;
  /**
   * Returns a fresh, empty store for one test. Called once per test; the suite never reuses
   * a store across tests.
   */
  createStore: () => Store | Promise<Store>;
  /** Called after each test with the store it used (drop tables, close pools). Default: `store.close?.()`. */
  destroyStore?: (store: Store) => void | Promise<void>;
  /**
   * Which optional `Store` methods the store has (see {@link StoreConformanceCapabilities}).
   * Default: each is detected from the store object.
   */
  capabilities?: StoreConformanceCapabilities;
}

/** The name of an optional `Store` method, as a key of {@link StoreConformanceCapabilities}. */
export type Capability = keyof StoreConformanceCapabilities;

/** Every optional `Store` method, in the order the suite reports them. */
export const CAPABILITIES: readonly Capability[] = [
  'watch',
  'webhooksVersion',
  'close',
  'outboxStats',
  'scanWebhooks',
  'replaceWebhookSecrets',
  'recoverDeliveries',
  'cancelDelivery',
  'enqueueMany',
  'searchDeliveries',
  'webhookActivity',
  'deliveryLine',
];

/** A store that has the optional method `C`. */
export type StoreWith<C extends Capability> = Store & Required<Pick<Store, C>>;

/**
 * What each part of the suite gets: the options, and `withStore`, which turns a test body into
 * a test function that creates a fresh store, runs the body and destroys the store.
 *
 * @example
 * ```ts
 * it('finds nothing in an empty store', ctx.withStore(async (store) => {
 *   expect(await store.getWebhook({ scope: 'acme', id: 1 })).toBeNull();
 * }));
 * ```
 */
export interface ConformanceContext {
  readonly options: StoreConformanceOptions;
  withStore(run: (store: Store) => Promise<void>): () => Promise<void>;
}

/**
 * The context for `options`: `withStore` calls `createStore` before the body and
 * `destroyStore` (default `store.close?.()`) after it, also when the body fails.
 *
 * @example
 * ```ts
 * const ctx = conformanceContext({ name: 'memory', createStore: () => memoryStore() });
 * ```
 */
export function conformanceContext(options: StoreConformanceOptions): ConformanceContext {
  return {
    options,
    withStore: (run) => async () => {
      const store = await options.createStore();
      try {
        await run(store);
      } finally {
        await (options.destroyStore ? options.destroyStore(store) : store.close?.());
      }
    },
  };
}

/**
 * Whether `store` has the optional method `capability`.
 *
 * @example
 * ```ts
 * if (hasCapability(store, 'watch')) await store.watch(listener);
 * ```
 */
export function hasCapability<C extends Capability>(store: Store, capability: C): store is StoreWith<C> {
  return typeof store[capability] === 'function';
}

/**
 * Registers a case of an optional part of the contract, by the adapter's declaration of
 * `capability` (see {@link StoreConformanceCapabilities}): declared `true`, the case fails when
 * the method is missing; declared `false`, the case is not registered (the "opted out" case of
 * `storeConformance` stands for it); not declared, the case checks nothing when the method is
 * missing.
 *
 * @example
 * ```ts
 * optionalCase(ctx, 'watch', 'signals webhook updates', async (store) => {
 *   const stop = await store.watch(() => {});
 *   await stop();
 * });
 * ```
 */
export function optionalCase<C extends Capability>(
  ctx: ConformanceContext,
  capability: C,
  title: string,
  run: (store: StoreWith<C>) => Promise<void>,
): void {
  if (optedOut(ctx, capability)) return;
  const declared = ctx.options.capabilities?.[capability];
  it(
    title,
    ctx.withStore(async (store) => {
      if (declared === true) expectCapability(store, capability);
      if (hasCapability(store, capability)) await run(store);
    }),
  );
}

/**
 * Whether the adapter declared `capability` `false` (opted out of it). A part made only of that
 * capability's cases registers no `describe` block then (vitest fails an empty one).
 *
 * @example
 * ```ts
 * if (optedOut(ctx, 'watch')) return;
 * ```
 */
export function optedOut(ctx: ConformanceContext, capability: Capability): boolean {
  return ctx.options.capabilities?.[capability] === false;
}

/**
 * Fails the current test unless `store` has the method `capability` (the adapter declared it).
 *
 * @example
 * ```ts
 * expectCapability(store, 'close');
 * ```
 */
export function expectCapability(store: Store, capability: Capability): void {
  expect(
    typeof store[capability],
    `capabilities.${capability} is true, so store.${capability} must be a function`,
  ).toBe('function');
}
