/**
 * HTML built safely: the `html` tagged template escapes every interpolated value unless it is
 * {@link SafeHtml} (the result of another `html` template, or {@link raw} for our own constant
 * markup). Third-party text (response bodies, headers, errors) can only reach a page escaped.
 *
 * @module
 */

/** Markup that is already safe: made by {@link html} or {@link raw}, never from outside data. */
export class SafeHtml {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/**
 * Escapes text for an HTML text node or a double- or single-quoted attribute value.
 *
 * @example
 * ```ts
 * escapeText('<img onerror=x>'); // '&lt;img onerror=x&gt;'
 * ```
 */
export function escapeText(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);
}

/** Anything the `html` template accepts as a value. */
export type HtmlValue = SafeHtml | string | number | boolean | null | undefined | readonly HtmlValue[];

function render(value: HtmlValue): string {
  if (value === null || value === undefined || value === false) return '';
  if (value instanceof SafeHtml) return value.value;
  if (Array.isArray(value)) return value.map(render).join('');
  return escapeText(String(value));
}

/**
 * The tagged template: `html\`<td>${text}</td>\`` escapes `text`; nested templates, arrays of
 * them, and `raw()` pass through; `null`, `undefined` and `false` render nothing.
 *
 * @example
 * ```ts
 * const row = html`<tr><td>${delivery.lastError}</td></tr>`;
 * ```
 */
export function html(strings: TemplateStringsArray, ...values: HtmlValue[]): SafeHtml {
  let out = strings[0] ?? '';
  for (let i = 0; i < values.length; i++) out += render(values[i] as HtmlValue) + (strings[i + 1] ?? '');
  return new SafeHtml(out);
}

/**
 * Our own constant markup, trusted as it is. Never call it with data from outside.
 *
 * @example
 * ```ts
 * raw('&nbsp;');
 * ```
 */
export function raw(markup: string): SafeHtml {
  return new SafeHtml(markup);
}
