/**
 * `hookline/testing`: tools for testing code that uses hookline (a fake clock, a capture
 * transport, a helper that waits for a delivery's outcome) and for testing storage adapters
 * (the store conformance suite). The conformance suite imports vitest; use it from test files.
 *
 * @example
 * ```ts
 * import { captureTransport, createFakeClock, storeConformance } from 'hookline/testing';
 * storeConformance({ name: 'my-store', createStore: () => myStore() });
 * ```
 */
export {
  type CapturedRequest,
  type CaptureResponse,
  type CaptureTransport,
  captureTransport,
} from './capture.js';
export { createFakeClock, type FakeClock } from './clock.js';
export {
  newDelivery,
  type StoreConformanceOptions,
  storeConformance,
  webhookFields,
} from './conformance.js';
export { type WaitForDeliveryOptions, waitForDelivery } from './wait.js';
