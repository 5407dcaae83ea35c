import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/errors.js';
import {
  combineCatalogs,
  createCatalog,
  isWellFormedPattern,
  pretixCatalog,
  talerCatalog,
  validateEventTypes,
} from '../../src/matching/index.js';

const entry = { label: 'L', description: 'D' };

describe('built-in catalogs', () => {
  it('lists every pretix core type with full dotted names', () => {
    expect(pretixCatalog.size).toBe(46);
    for (const key of [
      'pretix.event.order.placed',
      'pretix.event.order.placed.require_approval',
      'pretix.event.order.changed.*',
      'pretix.event.order.refund.created.externally',
      'pretix.event.orders.waitinglist.voucher_assigned',
      'pretix.event.checkin',
      'pretix.event.checkin.reverted',
      'pretix.event.testmode.deactivated',
      'pretix.subevent.deleted',
      'pretix.event.item.*',
      'pretix.voucher.changed',
      'pretix.customer.anonymized',
      'pretix.giftcards.modified',
      'pretix.giftcards.transaction.*',
    ]) {
      expect(pretixCatalog.has(key), key).toBe(true);
    }
    for (const item of pretixCatalog.list()) {
      expect(item.label.length).toBeGreaterThan(0);
      expect(item.description.length).toBeGreaterThan(0);
      expect(item.wildcard).toBe(item.type.endsWith('.*'));
    }
    expect(pretixCatalog.keys()).toEqual([...pretixCatalog.keys()].sort());
  });

  it('lists the ten Taler types', () => {
    expect(talerCatalog.keys()).toEqual(
      [
        'order_created',
        'pay',
        'refund',
        'order_settled',
        'category_added',
        'category_updated',
        'category_deleted',
        'inventory_added',
        'inventory_updated',
        'inventory_deleted',
      ].sort(),
    );
    expect(talerCatalog.resolve('pay')).toBe('pay');
    expect(talerCatalog.resolve('paid')).toBeNull();
  });
});

describe('catalog resolution', () => {
  it('resolves to the most specific key', () => {
    expect(pretixCatalog.resolve('pretix.event.order.paid')).toBe('pretix.event.order.paid');
    expect(pretixCatalog.resolve('pretix.event.order.changed.item')).toBe('pretix.event.order.changed.*');
    expect(pretixCatalog.resolve('pretix.event.order.changed.item.price')).toBe(
      'pretix.event.order.changed.*',
    );
    expect(pretixCatalog.resolve('pretix.event.order.changed')).toBeNull();
    expect(pretixCatalog.resolve('pretix.event.item.variation.changed')).toBe('pretix.event.item.*');
    expect(pretixCatalog.resolve('pretix.event.checkin.denied')).toBeNull();
    expect(pretixCatalog.resolve('pretix.giftcards.transaction.manual')).toBe(
      'pretix.giftcards.transaction.*',
    );
  });

  it('prefers the longest wildcard and never uses a single-segment a.*', () => {
    const c = createCatalog({ 'a.b.*': entry, 'a.b.c.*': entry, 'a.b.c.d.e': entry });
    expect(c.resolve('a.b.c.d')).toBe('a.b.c.*');
    expect(c.resolve('a.b.c.d.e')).toBe('a.b.c.d.e');
    expect(c.resolve('a.b.x')).toBe('a.b.*');
    expect(c.resolve('a.b')).toBeNull();
    expect(c.resolve('a.x')).toBeNull();
  });

  it('rejects malformed keys', () => {
    const attempt = () => createCatalog({ 'a.*': entry, 'a..b': entry, 'a.*.b': entry, 'ok.fine': entry });
    expect(attempt).toThrow(ValidationError);
    try {
      attempt();
    } catch (err) {
      const issues = (err as ValidationError).issues;
      expect(issues.map((i) => i.path)).toEqual([
        ['catalog', 'a.*'],
        ['catalog', 'a.*.b'],
        ['catalog', 'a..b'],
      ]);
      expect(new Set(issues.map((i) => i.code))).toEqual(new Set(['invalid_catalog_key']));
    }
  });
});

describe('extend and combine', () => {
  it('extend returns a new catalog and leaves the original alone', () => {
    const extended = pretixCatalog.extend({
      'pretix.plugins.foo.done': { label: 'Foo', description: 'Foo done.' },
    });
    expect(extended.has('pretix.plugins.foo.done')).toBe(true);
    expect(extended.size).toBe(pretixCatalog.size + 1);
    expect(pretixCatalog.has('pretix.plugins.foo.done')).toBe(false);
    expect(extended.get('pretix.plugins.foo.done')).toEqual({ label: 'Foo', description: 'Foo done.' });
  });

  it('extend overrides an existing entry', () => {
    const extended = talerCatalog.extend({ pay: { label: 'Paid!', description: 'x' } });
    expect(extended.get('pay')?.label).toBe('Paid!');
    expect(talerCatalog.get('pay')?.label).toBe('Order paid');
  });

  it('combineCatalogs merges, last one wins', () => {
    const both = combineCatalogs(pretixCatalog, talerCatalog);
    expect(both.size).toBe(56);
    expect(both.has('pay') && both.has('pretix.event.item.*')).toBe(true);
    const c = combineCatalogs(
      createCatalog({ x: { label: '1', description: '' } }),
      createCatalog({ x: entry }),
    );
    expect(c.get('x')).toEqual(entry);
    expect(combineCatalogs().size).toBe(0);
  });
});

describe('validateEventTypes', () => {
  it('uses the pretix message for unknown types', () => {
    expect(
      validateEventTypes(['pretix.event.order.paid', 'foo', 'pretix.event.order.changed.*'], pretixCatalog),
    ).toEqual([
      { path: ['eventTypes', 1], code: 'unknown_event_type', message: 'Invalid action type "foo".' },
    ]);
  });

  it('requires wildcards written literally as catalog keys', () => {
    const issues = validateEventTypes(
      ['pretix.event.order.changed.item', 'pretix.event.order.*'],
      pretixCatalog,
    );
    expect(issues.map((i) => i.message)).toEqual([
      'Invalid action type "pretix.event.order.changed.item".',
      'Invalid action type "pretix.event.order.*".',
    ]);
  });

  it('accepts any well-formed glob without a catalog', () => {
    expect(validateEventTypes(['*', '**', 'a.*', 'a.**.b', 'x-y.z_1', 'pay'], undefined)).toEqual([]);
    const issues = validateEventTypes(['', 'a..b', 'a.', 'order*', 'a b', 'a.***'], undefined);
    expect(issues.map((i) => i.path)).toEqual([0, 1, 2, 3, 4, 5].map((i) => ['eventTypes', i]));
    expect(new Set(issues.map((i) => i.code))).toEqual(new Set(['invalid_event_type']));
    expect(issues[1]?.message).toMatch(/^Invalid event type "a\.\.b": /);
  });

  it('isWellFormedPattern', () => {
    expect(isWellFormedPattern('pretix.event.order.changed.*')).toBe(true);
    expect(isWellFormedPattern('.a')).toBe(false);
  });
});
