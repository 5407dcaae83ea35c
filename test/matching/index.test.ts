import { describe, expect, it } from 'vitest';
import {
  createMatchIndex,
  type EventCatalog,
  type MatchableWebhook,
  type MatchQuery,
  naiveMatch,
  pretixCatalog,
} from '../../src/matching/index.js';

type Hook = MatchableWebhook & { name?: string };

const hook = (id: number, eventTypes: string[], rest: Partial<Hook> = {}): Hook => ({
  id,
  enabled: true,
  eventTypes,
  allEvents: true,
  limitEvents: [],
  ...rest,
});

/** Matches with the compiled index and the naive loop, asserts they agree, returns the ids. */
function ids(hooks: Hook[], query: MatchQuery, catalog?: EventCatalog): number[] {
  const index = createMatchIndex<Hook>({ catalog });
  for (const h of hooks) index.upsert(h);
  const compiled = index.match(query).map((h) => h.id);
  expect(naiveMatch(hooks, query, catalog).map((h) => h.id)).toEqual(compiled);
  return compiled;
}

describe('pretix resolution (catalog mode)', () => {
  const hooks = [
    hook(1, ['pretix.event.order.changed.*']),
    hook(2, ['pretix.event.item.*']),
    hook(3, ['pretix.event.order.paid', 'pretix.event.order.changed.*']),
    hook(4, ['pretix.event.checkin']),
  ];
  const at = (type: string) => ids(hooks, { type, event: 'democon' }, pretixCatalog);

  it('pretix.event.order.changed.item reaches a pretix.event.order.changed.* webhook', () => {
    expect(at('pretix.event.order.changed.item')).toEqual([1, 3]);
  });
  it('pretix.event.order.changed does not', () => {
    expect(at('pretix.event.order.changed')).toEqual([]);
  });
  it('pretix.event.item.variation.changed reaches pretix.event.item.*', () => {
    expect(at('pretix.event.item.variation.changed')).toEqual([2]);
  });
  it('pretix.event.checkin.denied reaches nothing', () => {
    expect(at('pretix.event.checkin.denied')).toEqual([]);
    expect(at('pretix.event.checkin')).toEqual([4]);
  });
  it('exact types match exactly', () => {
    expect(at('pretix.event.order.paid')).toEqual([3]);
    expect(at('pretix.event.order.paid.extra')).toEqual([]);
  });
  it('patterns that are not catalog keys never match', () => {
    expect(
      ids([hook(1, ['pretix.event.order.*', '*'])], { type: 'pretix.event.order.paid' }, pretixCatalog),
    ).toEqual([]);
  });
});

describe('event filter', () => {
  const type = 'pretix.event.order.paid';
  const hooks = [
    hook(1, [type]),
    hook(2, [type], { allEvents: false, limitEvents: ['democon'] }),
    hook(3, [type], { allEvents: false, limitEvents: ['othercon', 'democon'] }),
    hook(4, [type], { allEvents: false, limitEvents: [] }),
    hook(5, [type], { enabled: false }),
    hook(6, [type], { enabled: false, allEvents: false, limitEvents: ['democon'] }),
  ];
  for (const catalog of [pretixCatalog, undefined]) {
    const mode = catalog ? 'catalog' : 'glob';
    it(`${mode}: the named event or all events`, () => {
      expect(ids(hooks, { type, event: 'democon' }, catalog)).toEqual([1, 2, 3]);
    });
    it(`${mode}: wrong event`, () => {
      expect(ids(hooks, { type, event: 'othercon' }, catalog)).toEqual([1, 3]);
      expect(ids(hooks, { type, event: 'nocon' }, catalog)).toEqual([1]);
    });
    it(`${mode}: allEvents false with no events receives no event-level notifications`, () => {
      expect(ids([hooks[3] as Hook], { type, event: 'democon' }, catalog)).toEqual([]);
    });
    it(`${mode}: organizer-level notifications ignore the filter`, () => {
      expect(ids(hooks, { type }, catalog)).toEqual([1, 2, 3, 4]);
      expect(ids(hooks, { type, event: null }, catalog)).toEqual([1, 2, 3, 4]);
      expect(ids(hooks, { type, event: undefined }, catalog)).toEqual([1, 2, 3, 4]);
    });
    it(`${mode}: disabled webhooks never match`, () => {
      expect(ids([hooks[4] as Hook, hooks[5] as Hook], { type }, catalog)).toEqual([]);
    });
  }
});

describe('glob mode', () => {
  const match = (pattern: string, type: string) => ids([hook(1, [pattern])], { type }).length === 1;

  it('* alone means every type', () => {
    for (const t of ['pay', 'a.b', 'pretix.event.order.changed.item']) expect(match('*', t)).toBe(true);
  });
  it('a.* matches one segment', () => {
    expect(match('a.*', 'a.b')).toBe(true);
    expect(match('a.*', 'a.b.c')).toBe(false);
    expect(match('a.*', 'a')).toBe(false);
    expect(match('a.*', 'b.c')).toBe(false);
  });
  it('a.** matches zero or more segments', () => {
    expect(match('a.**', 'a.b')).toBe(true);
    expect(match('a.**', 'a.b.c')).toBe(true);
    expect(match('a.**', 'a')).toBe(true);
    expect(match('a.**', 'ab.c')).toBe(false);
  });
  it('** in the middle and at the start', () => {
    expect(match('a.**.z', 'a.z')).toBe(true);
    expect(match('a.**.z', 'a.b.c.z')).toBe(true);
    expect(match('a.**.z', 'a.b.c')).toBe(false);
    expect(match('**.paid', 'pretix.event.order.paid')).toBe(true);
    expect(match('**.paid', 'paid')).toBe(true);
    expect(match('**.paid', 'paid.x')).toBe(false);
    expect(match('a.b', 'a')).toBe(false);
    expect(match('a.b', 'a.b.c')).toBe(false);
    expect(match('**', 'x.y')).toBe(true);
  });
  it('*.** needs at least one segment (zero-or-more after one)', () => {
    expect(match('a.*.**', 'a.b')).toBe(true);
    expect(match('a.*.**', 'a.b.c')).toBe(true);
    expect(match('a.*.**', 'a')).toBe(false);
    expect(match('*.**', 'pay')).toBe(true);
  });
  it('literal patterns match exactly and ill-formed patterns never match', () => {
    expect(match('pay', 'pay')).toBe(true);
    expect(match('pay', 'pay.x')).toBe(false);
    expect(match('pa*', 'pay')).toBe(false);
    expect(match('a..b', 'a.b')).toBe(false);
  });
  it('many wildcard patterns matching one type (k-way merge beyond 8 lists)', () => {
    const patterns = [
      '*',
      '**',
      'a.**',
      'a.b.**',
      '**.d',
      'a.*.c.d',
      'a.b.*.d',
      '*.b.c.d',
      'a.**.d',
      '*.*.*.*',
      'a.b.c.*',
    ];
    const hooks = patterns.flatMap((p, i) => [
      hook(100 - i, [p]),
      hook(200 + i, [p, patterns[(i + 1) % patterns.length] as string], {
        allEvents: false,
        limitEvents: ['e'],
      }),
    ]);
    hooks.push(hook(50, ['a.b.c.d']), hook(51, ['a.b.c']));
    const all = ids(hooks, { type: 'a.b.c.d' });
    expect(all).toHaveLength(hooks.length - 1);
    expect(ids(hooks, { type: 'a.b.c.d', event: 'e' })).toEqual(all);
    expect(ids(hooks, { type: 'a.b.c.d', event: 'x' })).toEqual(all.filter((id) => id < 200));
  });

  it('each webhook at most once, ordered by id', () => {
    const hooks = [hook(9, ['a.*', 'a.b', '**']), hook(2, ['a.b']), hook(5, ['*', 'a.**'])];
    expect(ids(hooks, { type: 'a.b' })).toEqual([2, 5, 9]);
  });
});

describe('index updates', () => {
  for (const catalog of [pretixCatalog, undefined]) {
    const mode = catalog ? 'catalog' : 'glob';
    const paid = { type: 'pretix.event.order.paid', event: 'democon' };
    const item = { type: 'pretix.event.item.added', event: 'democon' };

    it(`${mode}: upsert, change, disable, remove`, () => {
      const index = createMatchIndex<Hook>({ catalog });
      expect(index.mode).toBe(catalog ? 'catalog' : 'glob');
      index.upsert(hook(2, ['pretix.event.order.paid']));
      index.upsert(hook(1, ['pretix.event.item.*']));
      expect(index.size).toBe(2);
      expect(index.match(paid).map((h) => h.id)).toEqual([2]);
      expect(index.match(item).map((h) => h.id)).toEqual([1]);

      // patch: the event types change (query both before to warm caches)
      index.upsert(hook(2, ['pretix.event.item.*'], { name: 'v2' }));
      expect(index.match(paid)).toEqual([]);
      expect(index.match(item).map((h) => [h.id, h.name])).toEqual([
        [1, undefined],
        [2, 'v2'],
      ]);

      // patch: the event filter changes
      index.upsert(hook(2, ['pretix.event.item.*'], { allEvents: false, limitEvents: ['othercon'] }));
      expect(index.match(item).map((h) => h.id)).toEqual([1]);
      expect(index.match({ ...item, event: 'othercon' }).map((h) => h.id)).toEqual([1, 2]);

      // disable, then enable again
      index.upsert(hook(1, ['pretix.event.item.*'], { enabled: false }));
      expect(index.match(item)).toEqual([]);
      expect(index.size).toBe(2);
      index.upsert(hook(1, ['pretix.event.item.*']));
      expect(index.match(item).map((h) => h.id)).toEqual([1]);

      // remove
      expect(index.remove(1)).toBe(true);
      expect(index.remove(1)).toBe(false);
      expect(index.get(1)).toBeUndefined();
      expect(index.size).toBe(1);
      expect(index.match(item)).toEqual([]);
      expect(index.match({ ...item, event: 'othercon' }).map((h) => h.id)).toEqual([2]);
    });

    it(`${mode}: results are fresh arrays and mutating an upserted object does nothing`, () => {
      const index = createMatchIndex<Hook>({ catalog });
      const h = { ...hook(1, ['pretix.event.order.paid']), limitEvents: ['democon'] as string[] };
      index.upsert(h);
      const first = index.match(paid);
      first.length = 0;
      expect(index.match(paid)).toHaveLength(1);
      h.limitEvents.push('othercon');
      expect(index.match({ ...paid, event: 'othercon' })).toHaveLength(1); // allEvents: true
      index.upsert({ ...h, allEvents: false });
      expect(index.match({ ...paid, event: 'othercon' })).toHaveLength(1);
      index.remove(1);
      expect(index.match({ ...paid, event: 'othercon' })).toHaveLength(0);
      expect(index.match({ ...paid, event: 'democon' })).toHaveLength(0);
    });
  }

  it('glob mode: wildcard upserts update cached types', () => {
    const index = createMatchIndex<Hook>();
    index.upsert(hook(3, ['a.b']));
    expect(index.match({ type: 'a.b' }).map((h) => h.id)).toEqual([3]);
    index.upsert(hook(1, ['a.*']));
    index.upsert(hook(2, ['**.c']));
    expect(index.match({ type: 'a.b' }).map((h) => h.id)).toEqual([1, 3]);
    expect(index.match({ type: 'a.c' }).map((h) => h.id)).toEqual([1, 2]);
    index.upsert(hook(1, ['x']));
    expect(index.match({ type: 'a.b' }).map((h) => h.id)).toEqual([3]);
    index.remove(2);
    expect(index.match({ type: 'a.c' })).toEqual([]);
  });
});
