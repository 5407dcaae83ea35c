import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type CatalogEntries,
  createCatalog,
  createMatchIndex,
  type EventCatalog,
  type MatchableWebhook,
  type MatchQuery,
  naiveMatch,
} from '../../src/matching/index.js';

const SEGMENTS = ['a', 'b', 'c'];
const SLUGS = ['e1', 'e2', 'e3'];

const segment = fc.constantFrom(...SEGMENTS);
const type = fc.array(segment, { minLength: 1, maxLength: 4 }).map((s) => s.join('.'));
const wildcardKey = fc.array(segment, { minLength: 2, maxLength: 3 }).map((s) => `${s.join('.')}.*`);
const globPattern = fc.oneof(
  fc.array(fc.constantFrom(...SEGMENTS, '*', '**'), { minLength: 1, maxLength: 4 }).map((s) => s.join('.')),
  fc.constant('*'),
  type,
);

const catalogArb: fc.Arbitrary<EventCatalog> = fc
  .uniqueArray(fc.oneof(type, wildcardKey), { maxLength: 12 })
  .map((keys) => {
    const entries: Record<string, { label: string; description: string }> = {};
    for (const key of keys) entries[key] = { label: key, description: '' };
    return createCatalog(entries as CatalogEntries);
  });

type Op =
  | { kind: 'upsert'; webhook: MatchableWebhook }
  | { kind: 'remove'; id: number }
  | { kind: 'match'; query: MatchQuery };

/** Upserts of ids 1..n in increasing order (as a store listing by id gives them), then random ops. */
function orderedThenRandom(pattern: fc.Arbitrary<string>, n: number): fc.Arbitrary<Op[]> {
  const prefix = fc
    .array(opsArb(pattern, 1, 1), { minLength: n, maxLength: n })
    .map((rows) =>
      rows.flatMap((ops, i): Op[] =>
        ops.flatMap((op) =>
          op.kind === 'upsert' ? [{ kind: 'upsert', webhook: { ...op.webhook, id: i + 1 } }] : [],
        ),
      ),
    );
  return fc.tuple(prefix, opsArb(pattern, n + 5, 80)).map(([a, b]) => [...a, ...b]);
}

function opsArb(pattern: fc.Arbitrary<string>, maxId = 10, maxOps = 60): fc.Arbitrary<Op[]> {
  const webhook = fc.record({
    id: fc.integer({ min: 1, max: maxId }),
    enabled: fc.boolean(),
    eventTypes: fc.array(pattern, { maxLength: 4 }),
    allEvents: fc.boolean(),
    limitEvents: fc.array(fc.constantFrom(...SLUGS), { maxLength: 3 }),
  });
  const query = fc.record({ type, event: fc.constantFrom(...SLUGS, 'e9', null, undefined) });
  const op: fc.Arbitrary<Op> = fc.oneof(
    { weight: 4, arbitrary: webhook.map((w) => ({ kind: 'upsert' as const, webhook: w })) },
    {
      weight: 1,
      arbitrary: fc.integer({ min: 1, max: maxId }).map((id) => ({ kind: 'remove' as const, id })),
    },
    { weight: 4, arbitrary: query.map((q) => ({ kind: 'match' as const, query: q })) },
  );
  return fc.array(op, { maxLength: maxOps });
}

/** Replays the operations on an index and on a plain model; every match must agree. */
function check(ops: Op[], catalog: EventCatalog | undefined, finalQueries: MatchQuery[]): void {
  const index = createMatchIndex<MatchableWebhook>({ catalog });
  const model = new Map<number, MatchableWebhook>();
  const compare = (query: MatchQuery) => {
    const expected = naiveMatch(model.values(), query, catalog);
    const actual = index.match(query);
    expect(actual).toEqual(expected);
    for (let i = 0; i < expected.length; i++) expect(actual[i]).toBe(expected[i]);
  };
  for (const op of ops) {
    if (op.kind === 'upsert') {
      index.upsert(op.webhook);
      model.set(op.webhook.id, op.webhook);
    } else if (op.kind === 'remove') {
      expect(index.remove(op.id)).toBe(model.delete(op.id));
    } else compare(op.query);
    expect(index.size).toBe(model.size);
  }
  for (const query of finalQueries) compare(query);
}

const finalQueries = fc.array(fc.record({ type, event: fc.constantFrom(...SLUGS, null) }), { maxLength: 10 });

describe('compiled index equals naiveMatch', () => {
  it('catalog mode', () => {
    fc.assert(
      fc.property(
        catalogArb,
        opsArb(fc.oneof(type, wildcardKey, fc.constant('*'))),
        finalQueries,
        (catalog, ops, queries) => check(ops, catalog, queries),
      ),
      { numRuns: 400 },
    );
  });

  it('catalog mode with patterns drawn from the catalog', () => {
    const keys = ['a.b', 'a.b.*', 'a.b.c', 'a.b.c.*', 'b.c.*', 'c', 'a.c.a'];
    const catalog = createCatalog(Object.fromEntries(keys.map((k) => [k, { label: k, description: '' }])));
    fc.assert(
      fc.property(opsArb(fc.constantFrom(...keys)), finalQueries, (ops, queries) =>
        check(ops, catalog, queries),
      ),
      { numRuns: 400 },
    );
  });

  it('glob mode', () => {
    fc.assert(
      fc.property(opsArb(globPattern), finalQueries, (ops, queries) => check(ops, undefined, queries)),
      { numRuns: 600 },
    );
  });

  it('glob mode, webhooks first added in id order (slot sweep), then random changes', () => {
    fc.assert(
      fc.property(orderedThenRandom(globPattern, 40), finalQueries, (ops, queries) =>
        check(ops, undefined, queries),
      ),
      { numRuns: 150 },
    );
  });

  it('glob mode with many webhooks (many trie nodes per type)', () => {
    fc.assert(
      fc.property(opsArb(globPattern, 60, 200), finalQueries, (ops, queries) =>
        check(ops, undefined, queries),
      ),
      { numRuns: 100 },
    );
  });
});
