/**
 * Header templates: render to `Name: value` lines, then parse and check them so that no value
 * can inject a header line or override a header hookline (or HTTP) owns.
 *
 * @module
 */
import { TemplateError } from '../errors.js';
import type { TemplateEscape } from '../model.js';
import { compileTemplate, type RenderState, runTemplate } from './compile.js';
import { escaperFor } from './escape.js';

/**
 * Header names a header template may not set (compared case-insensitively): hop-by-hop and
 * framing headers the HTTP client owns, and hookline's Standard Webhooks signature headers.
 * Literal lines setting one are reported by `validateTemplate`; rendering one fails.
 *
 * @example
 * ```ts
 * FORBIDDEN_HEADER_NAMES.includes('webhook-signature'); // true
 * ```
 */
export const FORBIDDEN_HEADER_NAMES: readonly string[] = Object.freeze([
  'host',
  'content-length',
  'transfer-encoding',
  'connection',
  'keep-alive',
  'proxy-connection',
  'te',
  'trailer',
  'upgrade',
  'expect',
  'webhook-id',
  'webhook-timestamp',
  'webhook-signature',
]);

const FORBIDDEN = new Set(FORBIDDEN_HEADER_NAMES);

/** An RFC 9110 token (a valid field name). */
export const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

// RFC 9110 field values: no control characters except horizontal tab.
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what we reject
const BAD_VALUE_CHAR = /[\u0000-\u0008\u000a-\u001f\u007f]/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what we reject
const LINE_BREAK_OR_NUL = /[\r\n\u0000]/;
const OWS = /^[ \t]+|[ \t]+$/g;

/** Header names whose duplicates are not combined: the last line wins. */
const LAST_WINS = new Set(['content-type']);

/**
 * True when a header template may not set this header (case-insensitive).
 *
 * @example
 * ```ts
 * isForbiddenHeaderName('Content-Length'); // true
 * isForbiddenHeaderName('X-Taler-Order'); // false
 * ```
 */
export function isForbiddenHeaderName(name: string): boolean {
  return FORBIDDEN.has(name.toLowerCase());
}

/** The problem with one `Name: value` line, or `undefined` when it is fine. */
export function checkHeaderLine(line: string): string | undefined {
  const colon = line.indexOf(':');
  if (colon === -1) return 'has no "Name: value" form (no colon)';
  const name = line.slice(0, colon).replace(OWS, '');
  if (!HEADER_NAME.test(name)) return `has an invalid header name ${JSON.stringify(name)}`;
  if (isForbiddenHeaderName(name)) return `sets ${JSON.stringify(name)}, which a template may not set`;
  if (BAD_VALUE_CHAR.test(line.slice(colon + 1))) return `has a control character in the value of ${name}`;
  return undefined;
}

/** Options of {@link renderHeaders}. */
export interface RenderHeadersOptions {
  /** How `{{x}}` escapes: `'html'` (default, Taler-compatible) or `'json'`. */
  escape?: TemplateEscape;
}

function guard(inserted: string, name: string): void {
  if (LINE_BREAK_OR_NUL.test(inserted)) {
    throw new TemplateError(
      'template_render_failed',
      `The value of "${name}" contains a line break or NUL; it cannot go into a header.`,
    );
  }
}

/**
 * Renders a header template to a header record.
 *
 * The template renders to lines (LF or CRLF); blank lines are ignored, each other line is
 * `Name: value` with optional spaces or tabs around the name and value (trimmed).
 *
 * Injection safety: every interpolated value (`{{x}}`, `{{{x}}}`, `{{&x}}`) is checked before
 * it is inserted, and one containing CR, LF or NUL fails the render. Line breaks can therefore
 * only come from the template's own text, never from data, and sections may still span lines
 * (e.g. an optional `Authorization` line). Each line is then checked: a line without a colon,
 * an invalid name (not an RFC 9110 token), a control character in a value, or a name in
 * {@link FORBIDDEN_HEADER_NAMES} (`Host`, `Content-Length`, `webhook-signature`, ...) is an
 * error.
 *
 * Duplicate names (compared case-insensitively) are combined in order with `, ` as RFC 9110
 * allows, keeping the first line's spelling, except `Content-Type`, where the last line wins.
 *
 * @throws {TemplateError} `template_invalid` when the template does not parse;
 *   `template_render_failed` for any of the problems above.
 * @throws {HooklineError} `invalid_option` for an `escape` other than `'html'` or `'json'`.
 *
 * @example
 * ```ts
 * renderHeaders('X-Taler-Order: {{order_id}}\nX-Source: shop', { order_id: '2025.123-01ABC' });
 * // { 'X-Taler-Order': '2025.123-01ABC', 'X-Source': 'shop' }
 * renderHeaders('X-A: {{v}}', { v: 'a\r\nHost: evil' }); // throws TemplateError
 * ```
 */
export function renderHeaders(
  template: string,
  data: unknown,
  options: RenderHeadersOptions = {},
): Record<string, string> {
  // `=== undefined`, not `??`: an `escape` of `null` is refused like any other wrong value.
  const mode = options.escape === undefined ? 'html' : options.escape;
  return renderHeadersWith(template, data, escaperFor(mode, 'renderHeaders()'));
}

/**
 * {@link renderHeaders} with the escaper already chosen (by `escaperFor`, which checks the
 * mode), for callers whose options were checked before. Internal.
 */
export function renderHeadersWith(
  template: string,
  data: unknown,
  escaper: (text: string) => string,
): Record<string, string> {
  const compiled = compileTemplate(template);
  const state: RenderState = { stack: [data], escape: escaper, guard };
  return parseHeaderLines(runTemplate(compiled, state));
}

/**
 * Parses rendered `Name: value` lines into a header record, with the rules of
 * {@link renderHeaders}.
 *
 * @throws {TemplateError} `template_render_failed` for a malformed or forbidden line.
 *
 * @example
 * ```ts
 * parseHeaderLines('Accept: a\r\naccept: b\n'); // { Accept: 'a, b' }
 * ```
 */
export function parseHeaderLines(text: string): Record<string, string> {
  const headers = new Map<string, { name: string; value: string }>();
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] ?? '').replace(OWS, '');
    if (line === '') continue;
    const problem = checkHeaderLine(line);
    if (problem !== undefined) {
      throw new TemplateError('template_render_failed', `Rendered header line ${i + 1} ${problem}.`);
    }
    const colon = line.indexOf(':');
    const name = line.slice(0, colon).replace(OWS, '');
    const value = line.slice(colon + 1).replace(OWS, '');
    const key = name.toLowerCase();
    const seen = headers.get(key);
    if (seen === undefined) headers.set(key, { name, value });
    else seen.value = LAST_WINS.has(key) ? value : `${seen.value}, ${value}`;
  }
  return Object.fromEntries(Array.from(headers.values(), (h) => [h.name, h.value]));
}
