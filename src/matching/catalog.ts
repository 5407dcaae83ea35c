import { ValidationError, type ValidationIssue } from '../errors.js';
import { BoundedCache } from '../util/bounded-cache.js';
import { isWellFormedPattern } from './patterns.js';

/**
 * Catalogs of known event types. A catalog key is either an exact type
 * (`pretix.event.order.paid`) or a wildcard key `prefix.*` with at least two prefix segments
 * (`pretix.event.order.changed.*`), which stands for every type below that prefix.
 */

/**
 * What a catalog says about one key.
 *
 * @example
 * ```ts
 * const entry: CatalogEntry = { label: 'Order paid', description: 'An order was marked as paid.' };
 * ```
 */
export interface CatalogEntry {
  /** Short human-readable name, e.g. for a checkbox in a UI. */
  readonly label: string;
  /** One or two sentences on when it fires. */
  readonly description: string;
}

/**
 * Catalog keys mapped to their entries: the input of {@link createCatalog} and `extend()`.
 *
 * @example
 * ```ts
 * const entries: CatalogEntries = { 'shop.cart.*': { label: 'Cart', description: 'Any cart change.' } };
 * ```
 */
export type CatalogEntries = Readonly<Record<string, CatalogEntry>>;

/**
 * One catalog key with its entry, as listed by `catalog.list()`.
 *
 * @example
 * ```ts
 * pretixCatalog.list()[0]; // { type: 'pretix.customer.anonymized', wildcard: false, label: ..., description: ... }
 * ```
 */
export interface CatalogItem extends CatalogEntry {
  /** The catalog key, e.g. `pretix.event.item.*`. */
  readonly type: string;
  /** `true` for a `prefix.*` key. */
  readonly wildcard: boolean;
}

/**
 * An immutable set of known event types. Use it to validate webhook patterns
 * ({@link validateEventTypes}) and, in a match index, to resolve notification types.
 *
 * @example
 * ```ts
 * pretixCatalog.resolve('pretix.event.order.changed.item'); // 'pretix.event.order.changed.*'
 * pretixCatalog.resolve('pretix.event.order.changed');      // null
 * const mine = pretixCatalog.extend({ 'pretix.plugins.foo.done': { label: 'Foo', description: 'Foo finished.' } });
 * ```
 */
export interface EventCatalog {
  /** Number of keys. */
  readonly size: number;
  /** True when `key` is a catalog key (wildcard keys are written literally: `a.b.*`). */
  has(key: string): boolean;
  /** The entry of a key, or `undefined`. */
  get(key: string): CatalogEntry | undefined;
  /** Every key, sorted alphabetically. */
  keys(): string[];
  /** Every key with its entry, sorted by key. */
  list(): CatalogItem[];
  /**
   * The most specific key for a concrete type: the type itself if it is a key, else each dotted
   * parent followed by `.*`, longest first, never the single-segment `a.*`. `null` when none is
   * a key. Results are memoised (the catalog is immutable).
   */
  resolve(type: string): string | null;
  /** A new catalog with these entries added; an existing key gets the new entry. */
  extend(entries: CatalogEntries): EventCatalog;
  /** The entries as a plain object (sorted keys). */
  toJSON(): Record<string, CatalogEntry>;
}

/** Why a catalog key is malformed, or `null` when it is fine. */
function catalogKeyProblem(key: string): string | null {
  if (!isWellFormedPattern(key) || key.includes('**')) {
    return 'A catalog key is a dotted name of letters, digits, "_" and "-", optionally ending in ".*".';
  }
  const segments = key.split('.');
  const stars = segments.filter((s) => s === '*').length;
  if (stars === 0) return null;
  if (stars > 1 || segments[segments.length - 1] !== '*')
    return 'Only a final ".*" segment may be a wildcard.';
  if (segments.length < 3)
    return 'A wildcard key needs at least two segments before ".*" ("a.*" is never resolved).';
  return null;
}

/**
 * Creates an immutable catalog. Throws a `ValidationError` (issue code `invalid_catalog_key`,
 * path `['catalog', key]`) for a malformed key.
 *
 * @example
 * ```ts
 * const shop = createCatalog({
 *   'shop.order.paid': { label: 'Order paid', description: 'Payment arrived.' },
 *   'shop.cart.*': { label: 'Cart changes', description: 'Any change to a cart.' },
 * });
 * shop.resolve('shop.cart.item.added'); // 'shop.cart.*'
 * ```
 */
export function createCatalog(entries: CatalogEntries): EventCatalog {
  const issues: ValidationIssue[] = [];
  const map = new Map<string, CatalogEntry>();
  for (const key of Object.keys(entries).sort()) {
    const entry = entries[key];
    const problem = catalogKeyProblem(key);
    if (problem !== null)
      issues.push({ path: ['catalog', key], code: 'invalid_catalog_key', message: problem });
    else if (entry !== undefined)
      map.set(key, Object.freeze({ label: entry.label, description: entry.description }));
  }
  if (issues.length > 0) throw new ValidationError(issues);
  return catalogFromMap(map);
}

function catalogFromMap(map: ReadonlyMap<string, CatalogEntry>): EventCatalog {
  // Resolutions by concrete type, per catalog (the catalog is immutable, so they never go
  // stale): a catalog-mode match resolves its type first, and resolving walks up to one string
  // slice and map lookup per segment. Bound: 10 000 types; emptied when full.
  const memo = new BoundedCache<string, string | null>(10_000);
  const resolveUncached = (type: string): string | null => {
    if (map.has(type)) return type;
    let prefix = type;
    for (let dot = prefix.lastIndexOf('.'); dot > 0; dot = prefix.lastIndexOf('.')) {
      prefix = prefix.slice(0, dot);
      if (!prefix.includes('.')) break; // never the single-segment `a.*`
      const key = `${prefix}.*`;
      if (map.has(key)) return key;
    }
    return null;
  };
  const catalog: EventCatalog = {
    size: map.size,
    has: (key) => map.has(key),
    get: (key) => map.get(key),
    keys: () => [...map.keys()],
    list: () => [...map].map(([type, e]) => ({ type, wildcard: type.endsWith('.*'), ...e })),
    resolve(type) {
      const known = memo.get(type);
      if (known !== undefined) return known;
      return memo.set(type, resolveUncached(type));
    },
    extend: (entries) => createCatalog({ ...Object.fromEntries(map), ...entries }),
    toJSON: () => Object.fromEntries(map),
  };
  return Object.freeze(catalog);
}

/**
 * Combines catalogs into a new one; for a key present in several, the last catalog wins.
 *
 * @example
 * ```ts
 * const both = combineCatalogs(pretixCatalog, talerCatalog);
 * both.has('pay'); // true
 * ```
 */
export function combineCatalogs(...catalogs: readonly EventCatalog[]): EventCatalog {
  const merged: Record<string, CatalogEntry> = {};
  for (const catalog of catalogs) Object.assign(merged, catalog.toJSON());
  return createCatalog(merged);
}

/**
 * Checks a webhook's event-type patterns and returns one issue per bad entry (empty when all
 * are fine), with path `['eventTypes', index]`.
 *
 * - With a catalog, every pattern must be a catalog key, wildcards written literally; otherwise
 *   code `unknown_event_type`, message `Invalid action type "foo".` (pretix's wording).
 * - With no catalog (`undefined`), any well-formed glob is accepted: dotted segments of
 *   `[A-Za-z0-9_-]`, `*` or `**`, no empty segments; otherwise code `invalid_event_type`.
 *
 * @example
 * ```ts
 * validateEventTypes(['pretix.event.order.paid', 'foo'], pretixCatalog);
 * // [{ path: ['eventTypes', 1], code: 'unknown_event_type', message: 'Invalid action type "foo".' }]
 * validateEventTypes(['shop.**'], undefined); // []
 * ```
 */
export function validateEventTypes(
  patterns: readonly string[],
  catalog: EventCatalog | undefined,
): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  patterns.forEach((pattern, index) => {
    if (catalog !== undefined) {
      if (!catalog.has(pattern)) {
        issues.push({
          path: ['eventTypes', index],
          code: 'unknown_event_type',
          message: `Invalid action type "${pattern}".`,
        });
      }
    } else if (!isWellFormedPattern(pattern)) {
      issues.push({
        path: ['eventTypes', index],
        code: 'invalid_event_type',
        message: `Invalid event type "${pattern}": use dotted names of letters, digits, "_" and "-", with "*" or "**" as whole segments.`,
      });
    }
  });
  return issues;
}
