export {
  type DecidableResult,
  type DecideInput,
  type DeliveryFailure,
  decideOutcome,
  type OutcomeDecision,
} from './decide.js';
export {
  DEFAULT_MAX_RESPONSE_BYTES,
  DEFAULT_TIMEOUT_MS,
  DEFAULT_USER_AGENT,
  type DeliverOptions,
  type DeliveryErrorCode,
  type DeliveryRequest,
  type DeliveryResult,
  deliver,
} from './deliver.js';
export { type SignInput, signWebhook } from './signing.js';
export {
  SAFE_RESPONSE_HEADERS,
  type Transport,
  type TransportError,
  type TransportErrorCode,
  type TransportRequest,
  type TransportResult,
} from './transport/contract.js';
export { type DefaultTransportOptions, defaultTransport } from './transport/default.js';
export { type KyTransport, type KyTransportOptions, kyTransport } from './transport/ky.js';
export { type NodeTransportOptions, nodeTransport } from './transport/node.js';
export { fetchHonoursDispatcher, undiciDispatcherSupported } from './transport/runtime.js';
export {
  checkAddress,
  createSsrfGuard,
  SsrfBlockedError,
  type SsrfCheck,
  type SsrfGuard,
  type SsrfLookup,
  type SsrfOptions,
} from './transport/ssrf.js';
export {
  createGuardedAgent,
  type GuardedAgentOptions,
  type PooledTransport,
  type UndiciTransportOptions,
  undiciTransport,
} from './transport/undici.js';
