/**
 * `hookline/testing`: tools for testing code that uses hookline, with any test runner (vitest,
 * Jest, `node:test`): a fake clock, a capture transport, and a helper that waits for a
 * delivery's outcome. Nothing here imports a test framework.
 *
 * The store conformance suite for storage adapters needs vitest and has its own entry point,
 * `hookline/testing/conformance`.
 *
 * @example
 * ```ts
 * import { captureTransport, createFakeClock } from 'hookline/testing';
 * const clock = createFakeClock();
 * const registry = new WebhookRegistry({ clock });
 * const worker = registry.worker({ transport: captureTransport() });
 * ```
 *
 * @module hookline/testing
 */
export {
  type CapturedRequest,
  type CaptureResponse,
  type CaptureTransport,
  captureTransport,
} from './capture.js';
export { createFakeClock, type FakeClock } from './clock.js';
export { type WaitForDeliveryOptions, waitForDelivery } from './wait.js';
