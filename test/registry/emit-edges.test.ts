import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/errors.js';
import type { Notification } from '../../src/model.js';
import { MAX_DATA_DEPTH, parseNotification } from '../../src/registry/notification.js';
import { WebhookRegistry } from '../../src/registry/registry.js';
import { nulIssue, validationIssues } from '../helpers/errors.js';

const NUL = '\u0000';

/** `levels` arrays nested in each other, built without recursion. */
function nestedArrays(levels: number): unknown[] {
  const root: unknown[] = [];
  let current = root;
  for (let i = 1; i < levels; i++) {
    const next: unknown[] = [];
    current.push(next);
    current = next;
  }
  return root;
}

async function registryWithHook(): Promise<WebhookRegistry> {
  const registry = new WebhookRegistry();
  await registry.create('acme', { url: 'https://receiver.example/h', eventTypes: ['order.paid'] });
  return registry;
}

const emitIssues = (registry: WebhookRegistry, notification: Notification) =>
  validationIssues(() => registry.emit(notification));

describe('emit(): NUL anywhere in a notification', () => {
  const cases: [string, Record<string, unknown>, (string | number)[]][] = [
    ['a top-level value', { note: `a${NUL}b` }, ['data', 'note']],
    ['a value deep in arrays and objects', { items: [{ name: `x${NUL}` }] }, ['data', 'items', 0, 'name']],
    ['a top-level key', { [`no${NUL}te`]: 1 }, ['data', `no${NUL}te`]],
    ['a key deep inside', { items: [{}, { [`k${NUL}`]: true }] }, ['data', 'items', 1, `k${NUL}`]],
    ['a string in an array', { tags: ['ok', NUL] }, ['data', 'tags', 1]],
  ];

  it.each(cases)('refuses a NUL in %s, naming the path', async (_name, data, path) => {
    const registry = await registryWithHook();
    expect(await emitIssues(registry, { scope: 'acme', type: 'order.paid', data })).toEqual([nulIssue(path)]);
    // Nothing was queued.
    const [hook] = (await registry.list('acme')).items;
    expect((await registry.deliveries('acme', hook?.id ?? 0)).count).toBe(0);
  });

  it.each(['scope', 'type', 'event', 'id'] as const)('refuses a NUL in the %s field', async (field) => {
    const registry = await registryWithHook();
    const notification = { scope: 'acme', type: 'order.paid', [field]: `x${NUL}` } as Notification;
    expect(await emitIssues(registry, notification)).toEqual([nulIssue([field])]);
  });

  it('refuses a NUL that a toJSON() produced', async () => {
    const registry = await registryWithHook();
    const sneaky = { toJSON: () => ({ inner: `a${NUL}` }) };
    expect(await emitIssues(registry, { scope: 'acme', type: 'order.paid', data: { sneaky } })).toEqual([
      nulIssue(['data', 'sneaky', 'inner']),
    ]);
  });

  it('a toJSON() that throws is a ValidationError with the cause, not a crash', async () => {
    const registry = await registryWithHook();
    const broken = new Error('boom');
    const data = {
      bad: {
        toJSON: () => {
          throw broken;
        },
      },
    };
    const error = await registry.emit({ scope: 'acme', type: 'order.paid', data }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).issues).toMatchObject([{ path: ['data'], code: 'not_json' }]);
    expect((error as ValidationError).cause).toBe(broken);
  });

  it('text that only looks like a NUL escape is fine', async () => {
    const registry = await registryWithHook();
    const result = await registry.emit({ scope: 'acme', type: 'order.paid', data: { text: '\\u0000' } });
    expect(result.deliveries).toBe(1);
  });
});

describe('emit(): deeply nested data', () => {
  it(`accepts data nested exactly ${MAX_DATA_DEPTH} levels (data itself is level 1)`, async () => {
    const registry = await registryWithHook();
    const data = { deep: nestedArrays(MAX_DATA_DEPTH - 1) };
    expect((await registry.emit({ scope: 'acme', type: 'order.paid', data })).deliveries).toBe(1);
  });

  it(`refuses one level more with code too_deep at the first level too many`, async () => {
    const registry = await registryWithHook();
    const data = { deep: nestedArrays(MAX_DATA_DEPTH) };
    const issues = await emitIssues(registry, { scope: 'acme', type: 'order.paid', data });
    expect(issues).toHaveLength(1);
    expect(issues[0]?.code).toBe('too_deep');
    expect(issues[0]?.path).toEqual(['data', 'deep', ...new Array<number>(MAX_DATA_DEPTH - 1).fill(0)]);
  });

  it('100 000 levels of nested arrays are a ValidationError, not a stack overflow', async () => {
    const registry = await registryWithHook();
    const data = { deep: nestedArrays(100_000) };
    const issues = await emitIssues(registry, { scope: 'acme', type: 'order.paid', data });
    expect(issues.map((issue) => issue.code)).toEqual(['too_deep']);
  });

  it('100 000 levels of nested objects, the same', () => {
    let deep: Record<string, unknown> = {};
    const root = deep;
    for (let i = 0; i < 100_000; i++) {
      const next: Record<string, unknown> = {};
      deep.a = next;
      deep = next;
    }
    expect(() => parseNotification({ scope: 'acme', type: 'x', data: root })).toThrow(ValidationError);
  });

  it('deep data produced by toJSON() is refused too', async () => {
    const registry = await registryWithHook();
    const data = { lazy: { toJSON: () => nestedArrays(1_000) } };
    const issues = await emitIssues(registry, { scope: 'acme', type: 'order.paid', data });
    expect(issues.map((issue) => issue.code)).toEqual(['too_deep']);
  });

  it('a toJSON() result too deep even to serialize is a ValidationError, not a crash', async () => {
    const registry = await registryWithHook();
    const data = { lazy: { toJSON: () => nestedArrays(1_000_000) } };
    const issues = await emitIssues(registry, { scope: 'acme', type: 'order.paid', data });
    expect(issues).toHaveLength(1);
    // JSON.stringify itself gives up (not_json), or the walk of its result does (too_deep).
    expect(['not_json', 'too_deep']).toContain(issues[0]?.code);
  });
});
