import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/errors.js';
import { notificationSchema } from '../../src/model.js';
import { parseNotification } from '../../src/registry/notification.js';

const at = new Date('2026-11-22T12:00:00Z');
const base = { scope: 'acme', type: 'pretix.event.order.paid', data: { code: 'AB12C' } };
const inherited = Object.create({ scope: 'acme', type: 'pay' }) as object;

/** Notifications on both sides of every rule the schema checks. */
const cases: [string, unknown][] = [
  ['minimal', { scope: 'acme', type: 'pay' }],
  ['full', { ...base, id: 'n-1', event: 'democon', occurredAt: at }],
  ['event null', { ...base, event: null }],
  ['undefined optional fields', { ...base, id: undefined, event: undefined, occurredAt: undefined }],
  ['name at the length limit', { ...base, scope: 's'.repeat(200), id: 'i'.repeat(200) }],
  ['scope too long', { ...base, scope: 's'.repeat(201) }],
  ['type too long', { ...base, type: 't'.repeat(201) }],
  ['empty scope', { ...base, scope: '' }],
  ['empty type', { ...base, type: '' }],
  ['empty id', { ...base, id: '' }],
  ['empty event', { ...base, event: '' }],
  ['scope with a control character', { ...base, scope: 'ac\u0007me' }],
  ['scope with a space (allowed)', { ...base, scope: 'ac me' }],
  ['type with a space', { ...base, type: 'order paid' }],
  ['type with a tab', { ...base, type: 'order\tpaid' }],
  ['type with a no-break space', { ...base, type: 'order\u00a0paid' }],
  ['type with a DEL', { ...base, type: 'order\u007fpaid' }],
  ['type with a wildcard', { ...base, type: 'pretix.*' }],
  ['numeric scope', { ...base, scope: 7 }],
  ['missing type', { scope: 'acme' }],
  ['unknown key', { ...base, extra: true }],
  ['data an array', { ...base, data: [1, 2] }],
  ['data null', { ...base, data: null }],
  ['data a string', { ...base, data: 'x' }],
  ['data with a null prototype', { ...base, data: Object.assign(Object.create(null), { a: 1 }) }],
  ['occurredAt invalid', { ...base, occurredAt: new Date(Number.NaN) }],
  ['occurredAt a string', { ...base, occurredAt: '2026-11-22T12:00:00Z' }],
  ['inherited fields', inherited],
  ['a class instance', Object.assign(new (class Note {})(), base)],
  ['null', null],
  ['a string', 'pay'],
  ['orderingKey', { ...base, orderingKey: 'order-17' }],
  ['orderingKey null', { ...base, orderingKey: null }],
  ['orderingKey at the length limit', { ...base, orderingKey: 'k'.repeat(200) }],
  ['orderingKey too long', { ...base, orderingKey: 'k'.repeat(201) }],
  ['orderingKey empty', { ...base, orderingKey: '' }],
  ['orderingKey with a control character', { ...base, orderingKey: 'a\u0001b' }],
  ['orderingKey a number', { ...base, orderingKey: 17 }],
];

function outcome(input: unknown) {
  try {
    return { ok: true, value: parseNotification(input as never) };
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    return { ok: false };
  }
}

describe('parseNotification()', () => {
  it.each(cases)('agrees with notificationSchema: %s', (_name, input) => {
    const schema = notificationSchema.safeParse(input);
    const result = outcome(input);
    expect(result.ok).toBe(schema.success);
    if (schema.success && result.ok && 'value' in result) {
      expect(result.value).toEqual({
        id: schema.data.id,
        scope: schema.data.scope,
        type: schema.data.type,
        event: schema.data.event ?? null,
        data: schema.data.data,
        occurredAt: schema.data.occurredAt,
        orderingKey: schema.data.orderingKey ?? null,
      });
    }
  });

  it('defaults missing data to an empty object', () => {
    expect(parseNotification({ scope: 'acme', type: 'pay' }).data).toEqual({});
  });
});
