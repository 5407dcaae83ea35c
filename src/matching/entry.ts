import { BoundedCache } from '../util/bounded-cache.js';
import type { Indexed } from './bucket.js';
import type { EventCatalog } from './catalog.js';
import {
  type GlobSegment,
  globSegments,
  hasWildcard,
  isWellFormedPattern,
  matchSegments,
} from './patterns.js';
import type { MatchableWebhook } from './types.js';

/** A webhook as compiled by the index: its filter and patterns snapshotted at upsert. */
export interface Entry<T extends MatchableWebhook> extends Indexed<T> {
  /** Snapshot of `webhook.enabled` at upsert. */
  readonly enabled: boolean;
  /** Catalog mode: the patterns that are catalog keys. Glob mode: literal (wildcard-free) patterns. */
  readonly keys: readonly string[];
  /** Glob mode: distinct wildcard patterns, split into segments (`*` alone normalised to `**`). */
  readonly globs: readonly (readonly GlobSegment[])[];
}

const NONE: readonly never[] = Object.freeze([]);

/** A copy of `values` without duplicates (first occurrence kept); `NONE` when empty. */
function unique(values: readonly string[]): readonly string[] {
  if (values.length === 0) return NONE;
  if (values.length > 16) return [...new Set(values)];
  const out: string[] = [];
  for (const value of values) if (!out.includes(value)) out.push(value);
  return out;
}

/** What the index needs to know about one pattern string (memoised per index). */
interface PatternInfo {
  /** Catalog mode: is a catalog key. Glob mode: well formed. */
  readonly usable: boolean;
  /** Glob mode: the segments of a wildcard pattern (`*` alone as `**`); `null` for a literal. */
  readonly glob: readonly GlobSegment[] | null;
}

function patternInfo(pattern: string, catalog: EventCatalog | undefined): PatternInfo {
  if (catalog !== undefined) return { usable: catalog.has(pattern), glob: null };
  if (!isWellFormedPattern(pattern)) return { usable: false, glob: null }; // ill-formed never matches
  return { usable: true, glob: hasWildcard(pattern) ? globSegments(pattern) : null };
}

/** True when an enabled entry has a pattern matching the concrete type (glob mode). */
export function entryMatchesType<T extends MatchableWebhook>(
  entry: Entry<T> | undefined,
  type: string,
  segments: readonly string[],
): entry is Entry<T> {
  if (entry === undefined || !entry.enabled) return false;
  if (entry.keys.includes(type)) return true;
  for (const glob of entry.globs) if (matchSegments(glob, segments)) return true;
  return false;
}

/**
 * Returns `compile(webhook, slot)`, which snapshots a webhook into an {@link Entry}. Pattern
 * analysis (well-formedness, catalog membership, segments) is memoised per compiler.
 */
export function createEntryCompiler<T extends MatchableWebhook>(
  catalog: EventCatalog | undefined,
): (webhook: T, slot: number) => Entry<T> {
  // Pattern analysis by pattern string, per compiler (so per index and catalog): webhooks share
  // patterns, and equal wildcard patterns must share one segment array (compile() dedupes
  // globs by identity). Bound: 10 000 patterns; emptied when full. Benchmark: bench/match
  // (upserts).
  const patterns = new BoundedCache<string, PatternInfo>(10_000);

  const info = (pattern: string): PatternInfo => {
    let known = patterns.get(pattern);
    if (known === undefined) {
      // A lone `*` shares the info (and so the very segment array) of `**`: same meaning.
      known = pattern === '*' && catalog === undefined ? info('**') : patternInfo(pattern, catalog);
      patterns.set(pattern, known);
    }
    return known;
  };

  return (webhook: T, slot: number): Entry<T> => {
    const keys: string[] = [];
    const globs: (readonly GlobSegment[])[] = [];
    for (const pattern of webhook.eventTypes) {
      const { usable, glob } = info(pattern);
      if (!usable) continue;
      if (glob === null) {
        if (!keys.includes(pattern)) keys.push(pattern);
      } else if (!globs.includes(glob)) globs.push(glob); // memoised: equal patterns, same array
    }
    return {
      id: webhook.id,
      slot,
      webhook,
      enabled: webhook.enabled,
      allEvents: webhook.allEvents,
      slugs: unique(webhook.limitEvents),
      keys: keys.length === 0 ? NONE : keys,
      globs: globs.length === 0 ? NONE : globs,
    };
  };
}
