/**
 * Event-type pattern syntax shared by catalogs, validation and glob matching.
 *
 * A pattern is a dotted name: one or more segments separated by `.`, each segment either
 * a literal of `[A-Za-z0-9_-]` or a whole-segment wildcard `*` / `**`.
 */

const LITERAL_SEGMENT = /^[A-Za-z0-9_-]+$/;

/** One compiled glob segment: a literal, `*` (exactly one segment) or `**` (zero or more). */
export type GlobSegment = string;

/** The wildcard matching exactly one segment. */
export const STAR = '*';
/** The wildcard matching zero or more segments. */
export const GLOBSTAR = '**';

/**
 * True when `pattern` is well formed: non-empty, no empty segments, every segment a literal of
 * `[A-Za-z0-9_-]` or exactly `*` or `**`.
 *
 * @example
 * ```ts
 * isWellFormedPattern('pretix.event.order.*'); // true
 * isWellFormedPattern('a..b');                 // false
 * isWellFormedPattern('order*');               // false (wildcards are whole segments)
 * ```
 */
export function isWellFormedPattern(pattern: string): boolean {
  if (pattern.length === 0) return false;
  for (const segment of pattern.split('.')) {
    if (segment !== STAR && segment !== GLOBSTAR && !LITERAL_SEGMENT.test(segment)) return false;
  }
  return true;
}

/** True when the (well-formed) pattern contains a `*` or `**` segment. */
export function hasWildcard(pattern: string): boolean {
  return pattern.includes('*');
}

/**
 * Splits a well-formed glob pattern into segments, normalising the lone `*` to `**` (in glob
 * mode `*` on its own means every event type).
 */
export function globSegments(pattern: string): GlobSegment[] {
  return pattern === STAR ? [GLOBSTAR] : pattern.split('.');
}

/**
 * Glob matching on segments: `*` matches exactly one segment, `**` zero or more. Memoised, so
 * patterns with several `**` stay linear in `pattern.length * type.length`.
 */
export function matchSegments(pattern: readonly GlobSegment[], type: readonly string[]): boolean {
  const width = type.length + 1;
  const seen = new Uint8Array((pattern.length + 1) * width);
  const go = (i: number, j: number): boolean => {
    const slot = i * width + j;
    const known = seen[slot];
    if (known !== undefined && known !== 0) return known === 1;
    let result: boolean;
    const segment = pattern[i];
    if (segment === undefined) result = j === type.length;
    else if (segment === GLOBSTAR) result = go(i + 1, j) || (j < type.length && go(i, j + 1));
    else result = j < type.length && (segment === STAR || segment === type[j]) && go(i + 1, j + 1);
    seen[slot] = result ? 1 : 2;
    return result;
  };
  return go(0, 0);
}
