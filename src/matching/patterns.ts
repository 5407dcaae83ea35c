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
 * Glob matching on segments: `*` matches exactly one segment, `**` zero or more. Iterative,
 * with backtracking to the last `**` only (the classic wildcard algorithm): linear for patterns
 * without `**`, at worst `pattern.length * type.length` steps with them, and no recursion, so
 * patterns or types of any length cannot overflow the call stack.
 */
export function matchSegments(pattern: readonly GlobSegment[], type: readonly string[]): boolean {
  let i = 0;
  let j = 0;
  let starI = -1;
  let starJ = 0;
  while (j < type.length) {
    const segment = pattern[i];
    if (segment === GLOBSTAR) {
      // Try matching zero segments first; come back here to let it swallow one more.
      starI = i;
      starJ = j;
      i++;
    } else if (segment !== undefined && (segment === STAR || segment === type[j])) {
      i++;
      j++;
    } else if (starI !== -1) {
      i = starI + 1;
      starJ++;
      j = starJ;
    } else {
      return false;
    }
  }
  while (pattern[i] === GLOBSTAR) i++;
  return i === pattern.length;
}
