import picomatch from 'picomatch';
import { BoundedCache } from '../util/bounded-cache.js';
import type { EventCatalog } from './catalog.js';
import { isWellFormedPattern } from './patterns.js';
import type { MatchableWebhook, MatchQuery } from './types.js';

type Matcher = (input: string) => boolean;

/**
 * Compiled picomatch matchers by pattern (`null` for an ill-formed one), shared by every call:
 * compiling a glob costs far more than testing it, and the reference matcher sees the same
 * patterns on every call (tests, bench/match's cross-check). Bound: 10 000 patterns; emptied
 * when full.
 */
const matchers = new BoundedCache<string, Matcher | null>(10_000);

/**
 * picomatch alternatives for one dotted glob: `.` becomes `/`, a lone `*` becomes `**`, and a
 * trailing `**` run after a `*` segment also gets the variant without it (picomatch lets `a/**`
 * match `a` but not `*\/**` match `a`; hookline's `**` always matches zero or more segments).
 */
export function picomatchGlobs(pattern: string): string[] {
  if (pattern === '*') return ['**'];
  const segments = pattern.split('.');
  let end = segments.length;
  while (end > 0 && segments[end - 1] === '**') end--;
  const globs = [segments.join('/')];
  if (end < segments.length && end > 0 && segments[end - 1] === '*')
    globs.push(segments.slice(0, end).join('/'));
  return globs;
}

/** A picomatch matcher for a glob-mode pattern, or `null` for an ill-formed one. Memoised. */
function globMatcher(pattern: string): Matcher | null {
  const known = matchers.get(pattern);
  if (known !== undefined) return known;
  return matchers.set(pattern, isWellFormedPattern(pattern) ? picomatch(picomatchGlobs(pattern)) : null);
}

/** Catalog resolution written out plainly (independent of `catalog.resolve`). */
function naiveResolve(type: string, catalog: EventCatalog): string | null {
  const segments = type.split('.');
  const candidates = [type];
  for (let n = segments.length - 1; n >= 2; n--) candidates.push(`${segments.slice(0, n).join('.')}.*`);
  return candidates.find((c) => catalog.has(c)) ?? null;
}

/**
 * The reference matcher: a plain loop over `webhooks` testing every pattern (picomatch in glob
 * mode, key equality after resolution in catalog mode) and the event filter. Same answers as
 * {@link createMatchIndex}, far slower; used by tests and benchmarks. Ids are assumed unique.
 *
 * @param catalog default `undefined`: glob mode.
 * @example
 * ```ts
 * naiveMatch(hooks, { type: 'pretix.event.order.paid', event: 'democon' }, pretixCatalog);
 * ```
 */
export function naiveMatch<T extends MatchableWebhook>(
  webhooks: Iterable<T>,
  notification: MatchQuery,
  catalog?: EventCatalog | undefined,
): T[] {
  const { type, event } = notification;
  const key = catalog === undefined ? null : naiveResolve(type, catalog);
  if (catalog !== undefined && key === null) return [];
  const path = type.split('.').join('/');
  const out: T[] = [];
  for (const webhook of webhooks) {
    if (!webhook.enabled) continue;
    if (event !== null && event !== undefined && !webhook.allEvents && !webhook.limitEvents.includes(event))
      continue;
    const hit =
      key === null
        ? webhook.eventTypes.some((p) => globMatcher(p)?.(path) === true)
        : webhook.eventTypes.includes(key);
    if (hit) out.push(webhook);
  }
  return out.sort((a, b) => a.id - b.id);
}
