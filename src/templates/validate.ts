/**
 * Write-time validation of templates: size, syntax, and a static check of header lines.
 *
 * @module
 */
import { invalidOption, TemplateError, type ValidationIssue } from '../errors.js';
import { checkOptionalByteCount, checkOptionalOneOf } from '../options.js';
import { type CompiledTemplate, compileTemplate, positionAt } from './compile.js';
import { checkHeaderLine, HEADER_NAME, isForbiddenHeaderName } from './headers.js';

/**
 * Default size limit of one template: 64 KiB (65536 bytes) of UTF-8.
 *
 * @example
 * ```ts
 * validateTemplate(big, { field: 'bodyTemplate', maxBytes: 4 * DEFAULT_MAX_TEMPLATE_BYTES });
 * ```
 */
export const DEFAULT_MAX_TEMPLATE_BYTES = 64 * 1024;

/** The values of {@link ValidateTemplateOptions.kind}. */
const TEMPLATE_KINDS: readonly string[] = ['body', 'headers'];

/** Options of {@link validateTemplate}. */
export interface ValidateTemplateOptions {
  /** The field name used as the issue `path`, e.g. `'bodyTemplate'`. */
  field: string;
  /** Largest accepted size in UTF-8 bytes. Default {@link DEFAULT_MAX_TEMPLATE_BYTES} (64 KiB). */
  maxBytes?: number;
  /**
   * `'headers'` adds the static header-line check (see {@link validateTemplate}). Default
   * `'body'`.
   */
  kind?: 'body' | 'headers';
}

/** UTF-8 size of a string, computed only when the string could be over `limit`. */
export function exceedsBytes(text: string, limit: number): boolean {
  if (text.length * 3 <= limit) return false;
  return Buffer.byteLength(text, 'utf8') > limit;
}

/**
 * Checks a template when a webhook is written, so that errors are reported to the person
 * saving it rather than at delivery time. Returns every issue found (empty when fine), each
 * with `path: [field]` and a code:
 *
 * - `template_too_large`: over `maxBytes` (default 64 KiB) of UTF-8;
 * - `template_invalid`: does not parse (message names the line and column), or, for
 *   `kind: 'headers'`, a header line that can never be valid;
 * - `header_forbidden` (`kind: 'headers'`): a literal line sets a forbidden header such as
 *   `Host` or `webhook-signature`.
 *
 * The header check is static and deliberately lenient: a line made only of template text
 * must be blank or `Name: value` with a valid name; a line with tags is checked only when a
 * colon appears before its first tag (then the literal name is checked). Lines whose name is
 * produced by a tag are checked when rendering.
 *
 * @example
 * ```ts
 * validateTemplate('{"a":"{{a}"}', { field: 'bodyTemplate' });
 * // [{ path: ['bodyTemplate'], code: 'template_invalid',
 * //    message: 'Template error at line 1, column 7: unclosed tag: "{{" has no matching "}}".' }]
 * validateTemplate('Host: x', { field: 'headerTemplate', kind: 'headers' });
 * // [{ path: ['headerTemplate'], code: 'header_forbidden',
 *    message: 'Header template line 1, column 1: the line sets "Host", which a template may not set.' }]
 * ```
 *
 * @throws {HooklineError} `invalid_option` for a missing `field`, a `maxBytes` that is not a
 *   positive integer or an unknown `kind`.
 */
export function validateTemplate(template: string, options: ValidateTemplateOptions): ValidationIssue[] {
  const where = 'validateTemplate()';
  if (typeof options?.field !== 'string') {
    throw invalidOption(where, 'field', "a string naming the field, e.g. 'bodyTemplate'", options?.field);
  }
  checkOptionalByteCount(where, 'maxBytes', options.maxBytes, 1);
  checkOptionalOneOf(where, 'kind', options.kind, TEMPLATE_KINDS);
  const { field } = options;
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_TEMPLATE_BYTES;
  if (exceedsBytes(template, maxBytes)) {
    return [
      {
        path: [field],
        code: 'template_too_large',
        message: `The template is larger than ${maxBytes} bytes.`,
      },
    ];
  }
  let compiled: CompiledTemplate;
  try {
    compiled = compileTemplate(template);
  } catch (err) {
    if (err instanceof TemplateError) return [{ path: [field], code: err.code, message: err.message }];
    throw err;
  }
  return options.kind === 'headers' ? checkHeaderTemplate(compiled, field) : [];
}

/**
 * Marks the characters of the template that are literal text (not inside any tag). Recursive,
 * but only over compiled templates, whose sections nest at most `MAX_SECTION_DEPTH` deep
 * (compile.ts refuses deeper ones).
 */
function literalMask(compiled: CompiledTemplate): Uint8Array {
  const mask = new Uint8Array(compiled.source.length);
  const walk = (tokens: CompiledTemplate['tokens']): void => {
    for (const token of tokens) {
      if (token[0] === 'text') mask.fill(1, token[2], token[3]);
      const children = token[4];
      if (Array.isArray(children)) walk(children);
    }
  };
  walk(compiled.tokens);
  return mask;
}

function checkHeaderTemplate(compiled: CompiledTemplate, field: string): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  const source = compiled.source;
  const mask = literalMask(compiled);
  let lineStart = 0;
  while (lineStart <= source.length) {
    let lineEnd = source.indexOf('\n', lineStart);
    if (lineEnd === -1) lineEnd = source.length;
    const next = lineEnd + 1;
    if (lineEnd > lineStart && source.charCodeAt(lineEnd - 1) === 13) lineEnd--;
    let firstTag = lineStart;
    while (firstTag < lineEnd && mask[firstTag] === 1) firstTag++;
    const { line } = positionAt(source, lineStart);
    const literal = source.slice(lineStart, firstTag);
    if (firstTag === lineEnd) {
      // The whole line is literal text.
      const text = literal.trim();
      const problem = text === '' ? undefined : checkHeaderLine(text);
      const column = literal.length - literal.trimStart().length + 1;
      if (problem !== undefined) {
        const colon = text.indexOf(':');
        const name = colon === -1 ? '' : text.slice(0, colon).trim();
        const forbidden = HEADER_NAME.test(name) && isForbiddenHeaderName(name);
        issues.push({
          path: [field],
          code: forbidden ? 'header_forbidden' : 'template_invalid',
          message: `Header template line ${line}, column ${column}: the line ${problem}.`,
        });
      }
    } else {
      const colon = literal.indexOf(':');
      if (colon !== -1) {
        const name = literal.slice(0, colon).trim();
        const column = literal.length - literal.trimStart().length + 1;
        if (!HEADER_NAME.test(name)) {
          issues.push({
            path: [field],
            code: 'template_invalid',
            message: `Header template line ${line}, column ${column}: the line has an invalid header name ${JSON.stringify(name)}.`,
          });
        } else if (isForbiddenHeaderName(name)) {
          issues.push({
            path: [field],
            code: 'header_forbidden',
            message: `Header template line ${line}, column ${column}: the line sets ${JSON.stringify(name)}, which a template may not set.`,
          });
        }
      }
    }
    lineStart = next;
  }
  return issues;
}

/** Options of {@link validateWebhookTemplates}. */
export interface ValidateWebhookTemplatesOptions {
  /** Largest accepted size of each template in UTF-8 bytes. Default 64 KiB. */
  maxBytes?: number;
}

/**
 * Validates both templates of a webhook: `headerTemplate` (with the header check) and
 * `bodyTemplate`. `null`/absent templates are fine. Issue paths are `['headerTemplate']` and
 * `['bodyTemplate']`.
 *
 * @example
 * ```ts
 * const issues = validateWebhookTemplates({ headerTemplate: 'X-A: {{a}}', bodyTemplate: '{{#x}}' });
 * if (issues.length > 0) throw new ValidationError(issues);
 * ```
 */
export function validateWebhookTemplates(
  webhook: { headerTemplate?: string | null | undefined; bodyTemplate?: string | null | undefined },
  options: ValidateWebhookTemplatesOptions = {},
): ValidationIssue[] {
  checkOptionalByteCount('validateWebhookTemplates()', 'maxBytes', options.maxBytes, 1);
  const limits = options.maxBytes === undefined ? {} : { maxBytes: options.maxBytes };
  const issues: ValidationIssue[] = [];
  if (typeof webhook.headerTemplate === 'string') {
    issues.push(
      ...validateTemplate(webhook.headerTemplate, { field: 'headerTemplate', kind: 'headers', ...limits }),
    );
  }
  if (typeof webhook.bodyTemplate === 'string') {
    issues.push(...validateTemplate(webhook.bodyTemplate, { field: 'bodyTemplate', ...limits }));
  }
  return issues;
}
