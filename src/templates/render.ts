/**
 * `renderTemplate`: Taler-compatible mustache rendering.
 *
 * @module
 */
import type { TemplateEscape } from '../model.js';
import { compileTemplate, type RenderState, runTemplate } from './compile.js';
import { escaperFor } from './escape.js';

/** Options of {@link renderTemplate}. */
export interface RenderTemplateOptions {
  /**
   * How `{{x}}` escapes. `'html'` (default, what Taler does) escapes `& < > "`; `'json'` escapes
   * for the inside of a JSON string. `{{{x}}}` and `{{&x}}` are raw in both modes.
   */
  escape?: TemplateEscape;
}

/**
 * Renders a mustache template the way the GNU Taler merchant (mustach) does.
 *
 * - `{{x}}` escapes exactly `&`, `<`, `>`, `"` (`'`, `\` and newlines are left alone);
 *   `{{{x}}}` and `{{&x}}` insert raw text.
 * - Missing variables and `null` render as empty text; strings without quotes; numbers and
 *   booleans as their JSON text; objects and arrays as compact JSON; `Date`s as ISO text.
 * - Dotted paths, sections (arrays iterate, `{{.}}` is the current item), inverted sections,
 *   comments, delimiter changes (`{{=<% %>=}}`) and spaces inside tags work. Falsy for
 *   sections: missing, `null`, `false`, `0`, `""`, `[]` and `{}` (as in mustach).
 * - Only own properties are looked up; partials (`{{>x}}`) render as empty text.
 *
 * The template data is usually the notification's `data` object: its keys are top-level
 * variables. Parsed templates are cached (bounded LRU of 1000).
 *
 * @throws {TemplateError} `template_invalid` with `position` when the template does not parse;
 *   `template_render_failed` when a value cannot be printed (e.g. a cyclic object).
 * @throws {HooklineError} `invalid_option` for an `escape` other than `'html'` or `'json'`.
 *
 * @example
 * ```ts
 * renderTemplate('Order {{order_id}}: {{s}}', { order_id: '2024.001-XYZ', s: 'a & b' });
 * // 'Order 2024.001-XYZ: a &amp; b'
 * renderTemplate('{"reason":"{{reason}}"}', { reason: 'say "hi"' }, { escape: 'json' });
 * // '{"reason":"say \\"hi\\""}'
 * ```
 */
export function renderTemplate(template: string, data: unknown, options: RenderTemplateOptions = {}): string {
  // `=== undefined`, not `??`: an `escape` of `null` is refused like any other wrong value.
  const mode = options.escape === undefined ? 'html' : options.escape;
  return renderTemplateWith(template, data, escaperFor(mode, 'renderTemplate()'));
}

/**
 * {@link renderTemplate} with the escaper already chosen (by `escaperFor`, which checks the
 * mode), for callers whose options were checked before. Internal.
 */
export function renderTemplateWith(
  template: string,
  data: unknown,
  escaper: (text: string) => string,
): string {
  const compiled = compileTemplate(template);
  const state: RenderState = { stack: [data], escape: escaper, guard: undefined };
  return runTemplate(compiled, state);
}
