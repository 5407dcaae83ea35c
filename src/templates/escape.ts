/**
 * The two escapers `{{x}}` can use: `html` (what the Taler merchant's mustach library does) and
 * `json` (hookline's opt-in mode for JSON string contexts).
 *
 * @module
 */
import { invalidOption } from '../errors.js';
import { TEMPLATE_ESCAPES, type TemplateEscape } from '../model.js';
import { expectedOneOf } from '../options.js';

const HTML_TEST = /[&<>"]/;
const HTML_ALL = /[&<>"]/g;
const HTML_ENTITIES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
};

/**
 * Escapes exactly `&`, `<`, `>` and `"` as `&amp;`, `&lt;`, `&gt;` and `&quot;`, as Taler's
 * mustach does. Apostrophes, backslashes, `/`, `=` and newlines are left alone (the `mustache`
 * package's own escaper escapes more, which would change Taler output).
 *
 * @example
 * ```ts
 * escapeHtml('Tom & "Jerry" <cheese>'); // 'Tom &amp; &quot;Jerry&quot; &lt;cheese&gt;'
 * escapeHtml("it's"); // "it's"
 * ```
 */
export function escapeHtml(text: string): string {
  return HTML_TEST.test(text) ? text.replace(HTML_ALL, (c) => HTML_ENTITIES[c] ?? c) : text;
}

// Characters that need work inside a JSON string: quote, backslash, C0 controls, the two
// JavaScript line separators, and surrogates (a lone surrogate becomes a \uXXXX escape).
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what we escape
const JSON_TEST = /["\\\u0000-\u001f\u2028\u2029\ud800-\udfff]/;
const SEPARATORS = /[\u2028\u2029]/g;

/**
 * Escapes text for the inside of a JSON string literal: the result of
 * `JSON.stringify(text).slice(1, -1)`, with U+2028 and U+2029 also written as `\u2028` and
 * `\u2029` (so the JSON is also safe to embed in JavaScript) and lone surrogates as `\uXXXX`.
 * `"prefix{{x}}suffix"` inside a JSON document therefore stays a valid JSON string for any `x`.
 *
 * @example
 * ```ts
 * escapeJson('say "hi"\n'); // 'say \\"hi\\"\\n'
 * ```
 */
export function escapeJson(text: string): string {
  if (!JSON_TEST.test(text)) return text;
  const quoted = JSON.stringify(text);
  const inner = quoted.slice(1, -1);
  return inner.includes('\u2028') || inner.includes('\u2029')
    ? inner.replace(SEPARATORS, (c) => (c === '\u2028' ? '\\u2028' : '\\u2029'))
    : inner;
}

/**
 * The escaper used for `{{x}}` in the given mode. This is the one check of an escape mode:
 * anything but `'html'` or `'json'` throws `invalid_option` for the option `escape` of `where`
 * (the function being called, e.g. `renderTemplate()`).
 */
export function escaperFor(mode: TemplateEscape, where: string): (text: string) => string {
  if (mode === 'json') return escapeJson;
  if (mode === 'html') return escapeHtml;
  throw invalidOption(where, 'escape', expectedOneOf(TEMPLATE_ESCAPES), mode);
}
