/**
 * Template compilation: the `mustache` package parses a template into its token tree, and this
 * module turns that tree into a small specialised render function with Taler (mustach)
 * semantics. Compiled templates are kept in a bounded LRU cache.
 *
 * Why not `Mustache.render`? Its interpolation prints objects as `[object Object]`, its
 * escaper escapes more characters than mustach does, and its global escaper/tags can be
 * changed by any other code in the process. Rendering the parsed tree ourselves fixes all
 * three and is faster (see `bench/templates`).
 *
 * @module
 */
import Mustache from 'mustache';
import { TemplateError, type TemplatePosition } from '../errors.js';

/**
 * Deepest section nesting accepted: 256, mustach's `MUSTACH_MAX_DEPTH`. Deeper templates are
 * `template_invalid`.
 *
 * @example
 * ```ts
 * renderTemplate('{{#a}}'.repeat(300) + '{{/a}}'.repeat(300), {}); // throws TemplateError
 * ```
 */
export const MAX_SECTION_DEPTH = 256;

/** What a compiled template needs while rendering. */
export interface RenderState {
  /** The context stack: the data object at the bottom, section values above it. */
  stack: unknown[];
  /** Escaper for `{{x}}`. */
  escape: (text: string) => string;
  /** Called with every interpolated piece of text before it is inserted; may throw. */
  guard: ((inserted: string, name: string) => void) | undefined;
}

type Part = string | ((state: RenderState) => string);

/**
 * A parsed and compiled template, as returned by {@link compileTemplate}.
 *
 * @example
 * ```ts
 * const { source, tokens } = compileTemplate('Hi {{name}}'); // tokens: mustache's token tree
 * ```
 */
export interface CompiledTemplate {
  /** The template text. */
  readonly source: string;
  /** The render program. */
  readonly parts: readonly Part[];
  /** The token tree from `mustache` (used by static checks). */
  readonly tokens: Mustache.TemplateSpans;
}

type Token = Mustache.TemplateSpans[number];

/** Turns an offset into a 1-based line and column (columns count UTF-16 code units). */
export function positionAt(template: string, offset: number): TemplatePosition {
  const clamped = Math.max(0, Math.min(offset, template.length));
  let line = 1;
  let lineStart = 0;
  for (let i = template.indexOf('\n'); i !== -1 && i < clamped; i = template.indexOf('\n', i + 1)) {
    line++;
    lineStart = i + 1;
  }
  return { offset: clamped, line, column: clamped - lineStart + 1 };
}

interface ParseProblem {
  offset: number;
  problem: string;
}

const TAG_TYPES = new Set(['#', '^', '/', '>', '{', '&', '=', '!']);
const SPACE = /\s/;

function skipSpace(text: string, from: number): number {
  let i = from;
  while (i < text.length && SPACE.test(text.charAt(i))) i++;
  return i;
}

/**
 * Re-scans a template the way `mustache` does, only to find where (and why) it does not
 * parse. Runs on the error path only; `mustache`'s own messages give end-of-text offsets for
 * unclosed tags and sections, which are useless to a person.
 */
export function locateParseProblem(template: string): ParseProblem | undefined {
  let open = '{{';
  let close = '}}';
  const sections: { name: string; offset: number }[] = [];
  let pos = 0;
  for (;;) {
    const start = template.indexOf(open, pos);
    if (start === -1) break;
    let i = skipSpace(template, start + open.length);
    let type = template.charAt(i);
    if (TAG_TYPES.has(type)) i++;
    else type = 'name';
    i = skipSpace(template, i);
    const unclosed = { offset: start, problem: `unclosed tag: "${open}" has no matching "${close}"` };
    let end: number;
    let value: string;
    if (type === '=') {
      const eq = template.indexOf('=', i);
      if (eq === -1) return unclosed;
      value = template.slice(i, eq).trim();
      const closeAt = template.indexOf(close, eq + 1);
      if (closeAt === -1) return unclosed;
      end = closeAt + close.length;
      const tags = value.split(/\s+/, 2);
      const [nextOpen, nextClose] = tags;
      if (tags.length !== 2 || !nextOpen || !nextClose) {
        return { offset: start, problem: `invalid delimiter change "${value}": give two delimiters` };
      }
      open = nextOpen;
      close = nextClose;
    } else {
      const closer = type === '{' ? `}${close}` : close;
      const closeAt = template.indexOf(closer, i);
      if (closeAt === -1) return unclosed;
      value = template.slice(i, closeAt).trim();
      end = closeAt + closer.length;
    }
    if (type === '#' || type === '^') {
      sections.push({ name: value, offset: start });
    } else if (type === '/') {
      const section = sections.pop();
      if (!section) return { offset: start, problem: `closing tag for "${value}" without an open section` };
      if (section.name !== value) {
        const at = positionAt(template, section.offset);
        return {
          offset: start,
          problem: `closing tag "${value}" does not match the open section "${section.name}" (opened at line ${at.line}, column ${at.column})`,
        };
      }
    }
    if (sections.length > MAX_SECTION_DEPTH) {
      return { offset: start, problem: `sections nested more than ${MAX_SECTION_DEPTH} deep` };
    }
    pos = end;
  }
  const section = sections.pop();
  if (section) return { offset: section.offset, problem: `section "${section.name}" is never closed` };
  return undefined;
}

function invalid(template: string, problem: ParseProblem, cause?: unknown): TemplateError {
  const position = positionAt(template, problem.offset);
  return new TemplateError(
    'template_invalid',
    `Template error at line ${position.line}, column ${position.column}: ${problem.problem}.`,
    cause === undefined ? { position } : { position, cause },
  );
}

// A private writer: its parse cache is cleared after every parse (ours is the bounded LRU),
// and passing the tags explicitly keeps a changed global `Mustache.tags` from mattering.
const writer = new Mustache.Writer();
const DEFAULT_TAGS: Mustache.OpeningAndClosingTags = ['{{', '}}'];

function parseTokens(template: string): Mustache.TemplateSpans {
  try {
    return writer.parse(template, DEFAULT_TAGS) as Mustache.TemplateSpans;
  } catch (err) {
    const located = locateParseProblem(template);
    if (located) throw invalid(template, located, err);
    // mustache's messages end with "at <offset>"; fall back to that.
    const message = err instanceof Error ? err.message : String(err);
    const at = /at (\d+)$/.exec(message);
    throw invalid(template, { offset: at?.[1] ? Number(at[1]) : 0, problem: message }, err);
  } finally {
    writer.clearCache();
  }
}

// ---------------------------------------------------------------------------------------------
// Values

type Lookup = (stack: unknown[]) => unknown;

function isIndex(key: string, length: number): boolean {
  if (key === '' || key.length > 10) return false;
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  if (key.length > 1 && key.charCodeAt(0) === 48) return false;
  return Number(key) < length;
}

/** Own-property access only: `{{constructor}}` or `{{__proto__}}` never reach prototypes. */
function hasKey(value: unknown, key: string): boolean {
  if (typeof value !== 'object' || value === null) return false;
  if (Array.isArray(value)) return isIndex(key, value.length);
  return Object.hasOwn(value, key);
}

function get(value: unknown, key: string): unknown {
  return hasKey(value, key) ? (value as Record<string, unknown>)[key] : undefined;
}

function compileLookup(name: string): Lookup {
  if (name === '.') return (stack) => stack[stack.length - 1];
  const [first = '', ...rest] = name.split('.');
  const findFirst = (stack: unknown[]): unknown => {
    for (let i = stack.length - 1; i >= 0; i--) {
      const frame = stack[i];
      if (hasKey(frame, first)) return (frame as Record<string, unknown>)[first];
    }
    return undefined;
  };
  if (rest.length === 0) return findFirst;
  const [second = '', third = ''] = rest;
  if (rest.length === 1) return (stack) => get(findFirst(stack), second);
  if (rest.length === 2) return (stack) => get(get(findFirst(stack), second), third);
  return (stack) => {
    let value = findFirst(stack);
    for (let i = 0; i < rest.length && value !== undefined; i++) value = get(value, rest[i] as string);
    return value;
  };
}

function renderFailed(name: string, cause: unknown): TemplateError {
  return new TemplateError('template_render_failed', `Cannot render "${name}" as JSON.`, { cause });
}

/**
 * The text mustach prints for a value: strings as they are, numbers and booleans as their JSON
 * text, `null`/missing as empty text, objects and arrays as compact JSON.
 */
export function valueText(value: unknown, name = '.'): string {
  switch (typeof value) {
    case 'string':
      return value;
    case 'number':
      return Number.isFinite(value) ? String(value) : '';
    case 'boolean':
      return value ? 'true' : 'false';
    case 'bigint':
      return value.toString();
    case 'object': {
      if (value === null) return '';
      if (value instanceof Date) return Number.isNaN(value.getTime()) ? '' : value.toISOString();
      let json: string | undefined;
      try {
        json = JSON.stringify(value);
      } catch (err) {
        throw renderFailed(name, err);
      }
      return json ?? '';
    }
    default:
      return '';
  }
}

function hasOwnKeys(value: object): boolean {
  for (const key in value) if (Object.hasOwn(value, key)) return true;
  return false;
}

/** mustach truthiness: `false`, `null`, missing, `0`, `""`, `[]` and `{}` are falsy. */
export function isTruthy(value: unknown): boolean {
  switch (typeof value) {
    case 'string':
      return value.length > 0;
    case 'number':
      return value !== 0 && !Number.isNaN(value);
    case 'boolean':
      return value;
    case 'bigint':
      return value !== 0n;
    case 'object':
      if (value === null) return false;
      if (Array.isArray(value)) return value.length > 0;
      return value instanceof Date || hasOwnKeys(value);
    default:
      return false;
  }
}

// ---------------------------------------------------------------------------------------------
// Compilation

function run(parts: readonly Part[], state: RenderState): string {
  let out = '';
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i] as Part;
    out += typeof part === 'string' ? part : part(state);
  }
  return out;
}

/**
 * A flat copy of a string. `mustache` builds text tokens one character at a time, so their
 * values are deep ropes; concatenating those into every rendered output would make V8 walk
 * every character's rope node each time the output is flattened (this doubled render time).
 */
function flat(text: string): string {
  return [text, ''].join('');
}

function compileParts(tokens: Mustache.TemplateSpans, source: string): Part[] {
  const parts: Part[] = [];
  for (const token of tokens) {
    const part = compileToken(token, source);
    if (part === undefined) continue;
    const last = parts[parts.length - 1];
    if (typeof part === 'string' && typeof last === 'string') parts[parts.length - 1] = flat(last + part);
    else parts.push(part);
  }
  return parts;
}

function compileToken(token: Token, source: string): Part | undefined {
  const [type, value] = token;
  switch (type) {
    case 'text': {
      // A slice of the (flat) template when it is the same text, else a flat copy.
      const slice = source.slice(token[2], token[3]);
      return slice === value ? slice : flat(value);
    }
    case 'name': {
      const lookup = compileLookup(value);
      return (state) => {
        const text = state.escape(valueText(lookup(state.stack), value));
        if (state.guard) state.guard(text, value);
        return text;
      };
    }
    case '&': {
      const lookup = compileLookup(value);
      return (state) => {
        const text = valueText(lookup(state.stack), value);
        if (state.guard) state.guard(text, value);
        return text;
      };
    }
    case '#': {
      const lookup = compileLookup(value);
      const children = compileParts(sectionChildren(token), source);
      return (state) => {
        const found = lookup(state.stack);
        if (Array.isArray(found)) {
          let out = '';
          for (const item of found) {
            state.stack.push(item);
            out += run(children, state);
            state.stack.pop();
          }
          return out;
        }
        if (!isTruthy(found)) return '';
        state.stack.push(found);
        const out = run(children, state);
        state.stack.pop();
        return out;
      };
    }
    case '^': {
      const lookup = compileLookup(value);
      const children = compileParts(sectionChildren(token), source);
      return (state) => (isTruthy(lookup(state.stack)) ? '' : run(children, state));
    }
    default:
      // '!' comments, '=' delimiter changes, and '>' partials (Taler provides none) print nothing.
      return undefined;
  }
}

function sectionChildren(token: Token): Mustache.TemplateSpans {
  const children = token[4];
  return Array.isArray(children) ? children : [];
}

/**
 * Whether sections nest deeper than `limit` in a token tree. Iterative (an explicit stack), so
 * a template of thousands of nested sections is refused instead of overflowing the call
 * stack; the recursive compile and render steps run only on trees that passed this check.
 */
function sectionsDeeperThan(tokens: Mustache.TemplateSpans, limit: number): boolean {
  const pending: { tokens: Mustache.TemplateSpans; depth: number }[] = [{ tokens, depth: 0 }];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    for (const token of next.tokens) {
      if (token[0] !== '#' && token[0] !== '^') continue;
      if (next.depth + 1 > limit) return true;
      pending.push({ tokens: sectionChildren(token), depth: next.depth + 1 });
    }
  }
  return false;
}

// ---------------------------------------------------------------------------------------------
// Cache

/**
 * Most compiled templates kept in the LRU cache: 1000.
 *
 * @example
 * ```ts
 * templateCacheSize() <= TEMPLATE_CACHE_MAX_ENTRIES; // always true
 * ```
 */
export const TEMPLATE_CACHE_MAX_ENTRIES = 1000;
/**
 * Most template characters kept in the cache in total: 8 Mi (older entries are evicted first;
 * a template over a quarter of this is compiled but never cached).
 *
 * @example
 * ```ts
 * TEMPLATE_CACHE_MAX_CHARS; // 8388608
 * ```
 */
export const TEMPLATE_CACHE_MAX_CHARS = 8 * 1024 * 1024;

const cache = new Map<string, CompiledTemplate>();
let cachedChars = 0;
// The most recently used entry: already the newest in the Map, so it needs no refresh.
let lastKey: string | undefined;
let lastCompiled: CompiledTemplate | undefined;

/**
 * Parses (with `mustache`) and compiles a template, using the bounded LRU cache (1000
 * templates, 8 Mi characters in all). Throws `TemplateError('template_invalid')` with the
 * position of the problem when the template does not parse.
 *
 * @example
 * ```ts
 * const compiled = compileTemplate('Hello {{name}}');
 * ```
 */
export function compileTemplate(template: string): CompiledTemplate {
  if (template === lastKey && lastCompiled !== undefined) return lastCompiled;
  const hit = cache.get(template);
  if (hit !== undefined) {
    // Refresh: move to the newest end of the Map's insertion order.
    cache.delete(template);
    cache.set(template, hit);
    lastKey = template;
    lastCompiled = hit;
    return hit;
  }
  const tokens = parseTokens(template);
  if (sectionsDeeperThan(tokens, MAX_SECTION_DEPTH)) {
    const located = locateParseProblem(template) ?? { offset: 0, problem: 'sections nested too deeply' };
    throw invalid(template, located);
  }
  const compiled: CompiledTemplate = { source: template, parts: compileParts(tokens, template), tokens };
  if (template.length <= TEMPLATE_CACHE_MAX_CHARS / 4) {
    cache.set(template, compiled);
    cachedChars += template.length;
    lastKey = template;
    lastCompiled = compiled;
    for (const [key] of cache) {
      if (cache.size <= TEMPLATE_CACHE_MAX_ENTRIES && cachedChars <= TEMPLATE_CACHE_MAX_CHARS) break;
      cache.delete(key);
      cachedChars -= key.length;
    }
  }
  return compiled;
}

/** Runs a compiled template. */
export function runTemplate(compiled: CompiledTemplate, state: RenderState): string {
  return run(compiled.parts, state);
}

/**
 * Empties the compiled-template cache (for tests and benchmarks).
 *
 * @example
 * ```ts
 * clearTemplateCache();
 * ```
 */
export function clearTemplateCache(): void {
  cache.clear();
  lastKey = undefined;
  lastCompiled = undefined;
  cachedChars = 0;
}

/**
 * How many compiled templates are cached right now.
 *
 * @example
 * ```ts
 * renderTemplate('{{a}}', {});
 * templateCacheSize(); // >= 1
 * ```
 */
export function templateCacheSize(): number {
  return cache.size;
}
