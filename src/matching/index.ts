/**
 * The event-matching engine: catalogs of known event types, pattern validation, a compiled
 * per-scope match index and a naive reference matcher. See docs/matching.md.
 */
export { pretixCatalog, talerCatalog } from './builtin-catalogs.js';
export type { CatalogEntries, CatalogEntry, CatalogItem, EventCatalog } from './catalog.js';
export { combineCatalogs, createCatalog, validateEventTypes } from './catalog.js';
export type { MatchIndex, MatchIndexOptions } from './index-compiled.js';
export { createMatchIndex } from './index-compiled.js';
export { naiveMatch } from './naive.js';
export { isWellFormedPattern } from './patterns.js';
export type { MatchableWebhook, MatchQuery } from './types.js';
