/**
 * `hookline/testing/conformance`: the store conformance suite, every promise of the `Store`
 * contract as vitest tests, and the two helpers its tests build data with. This entry point
 * imports `vitest` (an optional peer dependency, `>=3`), so load it only from vitest test files;
 * the vitest-free tools (fake clock, capture transport, `waitForDelivery`) are in
 * `hookline/testing`.
 *
 * The suite's sources are in `src/testing/conformance/`, one file per concern.
 *
 * @example
 * ```ts
 * // my-store.test.ts, run by vitest
 * import { storeConformance } from 'hookline/testing/conformance';
 * storeConformance({ name: 'my-store', createStore: () => myStore() });
 * ```
 *
 * @module hookline/testing/conformance
 */
export {
  newDelivery,
  type StoreConformanceCapabilities,
  type StoreConformanceOptions,
  storeConformance,
  webhookFields,
} from './conformance/index.js';
