/**
 * The route table of a dialect: path patterns such as `organizers/:scope/webhooks/:id`,
 * compiled once when the handler is built and matched segment by segment (no regular
 * expressions, nothing rebuilt per request).
 */

/**
 * The parameters a path pattern declares, e.g. `{ scope: string; id: string }` for
 * `organizers/:scope/webhooks/:id`.
 *
 * @example
 * ```ts
 * type P = ParamsOf<'private/webhooks/:key'>; // { readonly key: string }
 * ```
 */
export type ParamsOf<Pattern extends string> = Pattern extends `${infer Head}/${infer Tail}`
  ? SegmentParam<Head> & ParamsOf<Tail>
  : SegmentParam<Pattern>;

type SegmentParam<Segment extends string> = Segment extends `:${infer Name}`
  ? { readonly [K in Name]: string }
  : Record<never, never>;

/** Parameters of a matched path, by name. */
export type PathParams = Readonly<Record<string, string>>;

/** One compiled segment: a literal to compare, or a parameter to capture. */
type Segment = { literal: string } | { param: string };

/** A pattern split into segments, ready to match. */
export interface CompiledPattern<T> {
  /** The pattern as written, e.g. `organizers/:scope/webhooks`. */
  readonly pattern: string;
  readonly segments: readonly Segment[];
  /** What the table hands back on a match (the route). */
  readonly value: T;
}

/** A successful match: the route's value and the captured parameters. */
export interface PathMatch<T> {
  value: T;
  params: PathParams;
}

/**
 * A compiled route table. Patterns are grouped by their number of segments, so a lookup only
 * compares the patterns of the right length, literal by literal, in declaration order.
 */
export interface RouteTable<T> {
  /** The first route whose pattern matches `segments`, or `null`. */
  match(segments: readonly string[]): PathMatch<T> | null;
  /**
   * The literal first segments of the patterns (e.g. `['organizers']`), or `null` when a
   * pattern starts with a parameter (then every path below the base path is the table's).
   */
  readonly roots: readonly string[] | null;
}

/**
 * Splits a pattern (`a/:b/c`, no leading or trailing slash) into segments. Throws a
 * `TypeError` for an empty segment or a parameter without a name: a bug in a route table,
 * found when the handler is built.
 */
export function compilePattern<T>(pattern: string, value: T): CompiledPattern<T> {
  const segments = pattern.split('/').map((part): Segment => {
    if (part === '' || part === ':') throw new TypeError(`hookline/http: bad route pattern "${pattern}"`);
    return part.startsWith(':') ? { param: part.slice(1) } : { literal: part };
  });
  return { pattern, segments, value };
}

/**
 * Compiles patterns into a {@link RouteTable}.
 *
 * @example
 * ```ts
 * const table = compileRoutes([{ pattern: 'organizers/:scope/webhooks', value: 'list' }]);
 * table.match(['organizers', 'acme', 'webhooks']); // { value: 'list', params: { scope: 'acme' } }
 * ```
 */
export function compileRoutes<T>(routes: readonly { pattern: string; value: T }[]): RouteTable<T> {
  const byLength = new Map<number, CompiledPattern<T>[]>();
  const roots = new Set<string>();
  let anyRoot = false;
  for (const route of routes) {
    const compiled = compilePattern(route.pattern, route.value);
    const first = compiled.segments[0];
    if (first !== undefined && 'literal' in first) roots.add(first.literal);
    else anyRoot = true;
    const bucket = byLength.get(compiled.segments.length);
    if (bucket) bucket.push(compiled);
    else byLength.set(compiled.segments.length, [compiled]);
  }
  return {
    roots: anyRoot ? null : [...roots],
    match(segments) {
      const candidates = byLength.get(segments.length);
      if (candidates === undefined) return null;
      for (const candidate of candidates) {
        const params = matchSegments(candidate.segments, segments);
        if (params !== null) return { value: candidate.value, params };
      }
      return null;
    },
  };
}

function matchSegments(pattern: readonly Segment[], segments: readonly string[]): PathParams | null {
  const params: Record<string, string> = {};
  for (let index = 0; index < pattern.length; index += 1) {
    const part = pattern[index] as Segment;
    const segment = segments[index] as string;
    if ('literal' in part) {
      if (part.literal !== segment) return null;
    } else {
      params[part.param] = segment;
    }
  }
  return params;
}
