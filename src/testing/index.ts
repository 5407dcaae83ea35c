/**
 * `hookline/testing`: tools for testing code that uses hookline, and for testing storage
 * adapters. Imports vitest; use it from test files only.
 *
 * @example
 * ```ts
 * import { storeConformance } from 'hookline/testing';
 * storeConformance({ name: 'my-store', createStore: () => myStore() });
 * ```
 */
export { newDelivery, type StoreConformanceOptions, storeConformance, webhookFields } from './conformance.js';
