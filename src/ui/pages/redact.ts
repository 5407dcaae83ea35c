/**
 * What the page never shows: header values that may hold credentials, URL credentials and
 * query values (webhook URLs often carry tokens there).
 *
 * @module
 */
export { redactedUrl } from '../../observability/otel.js';

/** Header names whose values are masked: anything about auth, tokens, keys, cookies, signatures, secrets. */
const SENSITIVE_HEADER = /auth|token|secret|key|cookie|signature|password|passwd|session|credential/i;

/** What a masked value shows. */
export const MASK = '••••••';

/** Whether a header's value is masked on the page. */
export function isSensitiveHeader(name: string): boolean {
  return SENSITIVE_HEADER.test(name);
}

/** The header's value as shown: masked when sensitive. */
export function shownHeaderValue(name: string, value: string): string {
  return isSensitiveHeader(name) ? MASK : value;
}

/** A body as shown: JSON pretty-printed (two spaces), anything else as it is. */
export function prettyBody(body: string): string {
  const trimmed = body.trimStart();
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
    try {
      return JSON.stringify(JSON.parse(body), null, 2);
    } catch {
      return body;
    }
  }
  return body;
}
