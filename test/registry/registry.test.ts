import { describe, expect, it } from 'vitest';
import {
  ConflictError,
  generateKeyPair,
  generateSecret,
  memoryStore,
  NotFoundError,
  pretixCatalog,
  type Store,
  ValidationError,
  type WebhookInput,
  WebhookRegistry,
  type WebhookRegistryOptions,
} from '../../src/index.js';

const URL_OK = 'https://receiver.example/hook';
const PAID = 'pretix.event.order.paid';
const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

function registry(options: WebhookRegistryOptions = {}): WebhookRegistry {
  let tick = Date.parse('2026-01-01T00:00:00Z');
  const clock = { now: () => (tick += 1000), setTimeout: () => 0, clearTimeout: () => undefined };
  return new WebhookRegistry({ clock, ...options });
}

async function issuesOf(
  promise: Promise<unknown>,
): Promise<{ path: (string | number)[]; code: string; message: string }[]> {
  const error = await promise.then(
    () => {
      throw new Error('expected a ValidationError');
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ValidationError);
  return (error as ValidationError).issues;
}

describe('WebhookRegistry.create', () => {
  it('applies defaults and returns the read model without secrets', async () => {
    const r = registry();
    const hook = await r.create('acme', { url: URL_OK, eventTypes: [PAID], secrets: [SECRET] });
    expect(hook).toMatchObject({
      id: 1,
      scope: 'acme',
      key: null,
      enabled: true,
      disabledReason: null,
      url: URL_OK,
      method: 'POST',
      eventTypes: [PAID],
      allEvents: true,
      limitEvents: [],
      headerTemplate: null,
      bodyTemplate: null,
      templateEscape: null,
      comment: null,
      secretCount: 1,
    });
    expect(hook).not.toHaveProperty('secrets');
    expect(JSON.stringify(hook)).not.toContain(SECRET);
    expect(hook.createdAt).toBeInstanceOf(Date);
    expect(await r.secrets('acme', hook.id)).toEqual([SECRET]);
  });

  it('stores eventTypes sorted and without duplicates, and limitEvents without duplicates', async () => {
    const hook = await registry().create('acme', {
      url: URL_OK,
      eventTypes: ['b.x', 'a.y', 'b.x', 'a.*'],
      allEvents: false,
      limitEvents: ['z', 'a', 'z'],
    });
    expect(hook.eventTypes).toEqual(['a.*', 'a.y', 'b.x']);
    expect(hook.limitEvents).toEqual(['z', 'a']);
  });

  it('normalizes the method to upper case and accepts PUT', async () => {
    const hook = await registry().create('acme', { url: URL_OK, eventTypes: ['pay'], method: 'put' });
    expect(hook.method).toBe('PUT');
  });

  it.each<[string, unknown, string, string]>([
    ['an ftp URL', { url: 'ftp://example.com/x', eventTypes: [] }, 'url', 'Enter a valid URL.'],
    ['a relative URL', { url: '/hook', eventTypes: [] }, 'url', 'Enter a valid URL.'],
    ['an empty URL', { url: '', eventTypes: [] }, 'url', 'Enter a valid URL.'],
    ['a URL with spaces', { url: 'https://a b.example/', eventTypes: [] }, 'url', 'Enter a valid URL.'],
    [
      'an overlong URL',
      { url: `https://example.com/${'a'.repeat(1010)}`, eventTypes: [] },
      'url',
      'Ensure this field has no more than 1024 characters.',
    ],
    [
      'a URL with credentials',
      { url: 'https://u:p@example.com/', eventTypes: [] },
      'url',
      'Credentials in the URL are not allowed.',
    ],
    ['a number URL', { url: 5, eventTypes: [] }, 'url', 'Invalid input: expected string, received number'],
    [
      'missing eventTypes',
      { url: URL_OK },
      'eventTypes',
      'Invalid input: expected array, received undefined',
    ],
    [
      'an empty event type',
      { url: URL_OK, eventTypes: [''] },
      'eventTypes.0',
      'An event type may not be blank.',
    ],
    [
      'an unknown method',
      { url: URL_OK, eventTypes: [], method: 'TRACE' },
      'method',
      'Method must be one of POST, PUT, PATCH, DELETE, GET.',
    ],
    ['an empty key', { url: URL_OK, eventTypes: [], key: '' }, 'key', 'This field may not be blank.'],
    ['a key with a slash', { url: URL_OK, eventTypes: [], key: 'a/b' }, 'key', 'A key may not contain "/".'],
    [
      'a long comment',
      { url: URL_OK, eventTypes: [], comment: 'x'.repeat(256) },
      'comment',
      'Ensure this field has no more than 255 characters.',
    ],
    [
      'a bad secret',
      { url: URL_OK, eventTypes: [], secrets: ['hunter2'] },
      'secrets.0',
      'A secret must look like "whsec_<base64>" or "whsk_<base64>".',
    ],
    [
      'enabled as a string',
      { url: URL_OK, eventTypes: [], enabled: 'yes' },
      'enabled',
      'Invalid input: expected boolean, received string',
    ],
    [
      'an unknown field',
      { url: URL_OK, eventTypes: [], eventType: 'pay' },
      'eventType',
      'Unknown field "eventType".',
    ],
  ])('rejects %s with a field-keyed issue', async (_name, input, path, message) => {
    const issues = await issuesOf(registry().create('acme', input as WebhookInput));
    expect(issues).toContainEqual(
      expect.objectContaining({
        path: path.split('.').map((p) => (/^\d+$/.test(p) ? Number(p) : p)),
        message,
      }),
    );
  });

  it('checks secrets the way signing uses them, and accepts generated ones', async () => {
    const r = registry();
    const short = await issuesOf(r.create('acme', { url: URL_OK, eventTypes: [], secrets: ['whsec_AAAA'] }));
    expect(short).toEqual([
      {
        path: ['secrets', 0],
        code: 'invalid_secret',
        message: 'A whsec_ secret must decode to at least 16 bytes.',
      },
    ]);
    const badKey = await issuesOf(
      r.create('acme', { url: URL_OK, eventTypes: [], secrets: [generateSecret(), 'whsk_AAAAAAAA'] }),
    );
    expect(badKey).toEqual([expect.objectContaining({ path: ['secrets', 1], code: 'invalid_secret' })]);
    const hook = await r.create('acme', {
      url: URL_OK,
      eventTypes: [],
      secrets: [generateSecret(), generateKeyPair().secretKey],
    });
    expect(hook.secretCount).toBe(2);
  });

  it('accepts credentials in URLs when the registry allows them', async () => {
    const hook = await registry({ allowUrlCredentials: true }).create('acme', {
      url: 'https://user:pass@example.com/h',
      eventTypes: [],
    });
    expect(hook.url).toBe('https://user:pass@example.com/h');
  });

  it('rejects limitEvents together with allEvents', async () => {
    const issues = await issuesOf(
      registry().create('acme', { url: URL_OK, eventTypes: [], limitEvents: ['democon'] }),
    );
    expect(issues).toEqual([
      {
        path: [],
        code: 'limit_events_with_all_events',
        message: 'You can set either limit_events or all_events.',
      },
    ]);
  });

  it('validates event types against the catalog', async () => {
    const r = registry({ catalog: pretixCatalog });
    const issues = await issuesOf(r.create('acme', { url: URL_OK, eventTypes: [PAID, 'foo'] }));
    expect(issues).toEqual([
      expect.objectContaining({ path: ['eventTypes', 1], message: 'Invalid action type "foo".' }),
    ]);
    await expect(
      r.create('acme', { url: URL_OK, eventTypes: ['pretix.event.order.changed.*'] }),
    ).resolves.toBeTruthy();
  });

  it('validates limitEvents with the eventExists callback, per scope', async () => {
    const seen: [string, string][] = [];
    const r = registry({
      eventExists: async (scope, slug) => {
        seen.push([scope, slug]);
        return slug === 'democon';
      },
    });
    const issues = await issuesOf(
      r.create('acme', { url: URL_OK, eventTypes: [], allEvents: false, limitEvents: ['democon', 'foo'] }),
    );
    expect(issues).toEqual([
      { path: ['limitEvents', 1], code: 'unknown_event', message: 'Object with slug=foo does not exist.' },
    ]);
    expect(seen).toEqual([
      ['acme', 'democon'],
      ['acme', 'foo'],
    ]);
  });

  it('rejects a template that does not parse, naming the field', async () => {
    const issues = await issuesOf(
      registry().create('acme', { url: URL_OK, eventTypes: [], bodyTemplate: '{{#a}}x' }),
    );
    expect(issues[0]?.path).toEqual(['bodyTemplate']);
  });

  it('rejects a template over the size limit', async () => {
    const r = registry({ maxTemplateBytes: 10 });
    const issues = await issuesOf(
      r.create('acme', { url: URL_OK, eventTypes: [], bodyTemplate: 'x'.repeat(11) }),
    );
    expect(issues[0]).toMatchObject({ path: ['bodyTemplate'], code: 'template_too_large' });
  });

  it('rejects a duplicate key in one scope with a ConflictError', async () => {
    const r = registry();
    await r.create('acme', { url: URL_OK, eventTypes: [], key: 'k' });
    await expect(r.create('acme', { url: URL_OK, eventTypes: [], key: 'k' })).rejects.toMatchObject({
      code: 'conflict',
      field: 'key',
    });
    await expect(r.create('other', { url: URL_OK, eventTypes: [], key: 'k' })).resolves.toMatchObject({
      key: 'k',
    });
  });

  it('rejects a blank or non-string scope', async () => {
    const r = registry();
    expect((await issuesOf(r.create('', { url: URL_OK, eventTypes: [] })))[0]?.path).toEqual(['scope']);
    expect(
      (await issuesOf(r.create(3 as unknown as string, { url: URL_OK, eventTypes: [] })))[0]?.path,
    ).toEqual(['scope']);
  });

  it('never throws a bare TypeError for a non-object input', async () => {
    for (const input of [null, undefined, 'x', 5, []]) {
      await expect(registry().create('acme', input as unknown as WebhookInput)).rejects.toBeInstanceOf(
        ValidationError,
      );
    }
  });
});

describe('WebhookRegistry reads', () => {
  it('gets by id and by key, and reports a missing one as NotFoundError', async () => {
    const r = registry();
    const hook = await r.create('acme', { url: URL_OK, eventTypes: [], key: 'orders' });
    expect(await r.get('acme', hook.id)).toEqual(hook);
    expect(await r.getByKey('acme', 'orders')).toEqual(hook);
    await expect(r.get('acme', 999)).rejects.toBeInstanceOf(NotFoundError);
    await expect(r.getByKey('acme', 'nope')).rejects.toMatchObject({
      code: 'not_found',
      resource: 'webhook',
    });
  });

  it('treats an id that is not a positive integer as a validation error', async () => {
    const r = registry();
    for (const id of [0, -1, 1.5, Number.NaN, '1' as unknown as number]) {
      await expect(r.get('acme', id)).rejects.toBeInstanceOf(ValidationError);
    }
  });

  it('lists 50 per page by default, ordered by id, with the enabled filter', async () => {
    const r = registry();
    for (let i = 0; i < 120; i++)
      await r.create('acme', { url: URL_OK, eventTypes: [], enabled: i % 4 !== 0 });
    const first = await r.list('acme');
    expect(first.count).toBe(120);
    expect(first.items).toHaveLength(50);
    expect(first.items.map((h) => h.id)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    const third = await r.list('acme', { page: 3 });
    expect(third.items.map((h) => h.id)).toEqual(Array.from({ length: 20 }, (_, i) => i + 101));
    const disabled = await r.list('acme', { enabled: false, pageSize: 100 });
    expect(disabled.count).toBe(30);
    expect(disabled.items.every((h) => !h.enabled)).toBe(true);
    expect((await r.list('acme', { page: 9 })).items).toEqual([]);
    await expect(r.list('acme', { page: 0 })).rejects.toBeInstanceOf(ValidationError);
    await expect(r.list('acme', { pageSize: 1001 })).rejects.toBeInstanceOf(ValidationError);
  });
});

describe('WebhookRegistry writes', () => {
  it('update changes only the given fields and bumps updatedAt', async () => {
    const r = registry();
    const hook = await r.create('acme', { url: URL_OK, eventTypes: ['a.b'], comment: 'keep' });
    const updated = await r.update('acme', hook.id, { eventTypes: ['c.d', 'a.b'] });
    expect(updated).toMatchObject({ comment: 'keep', url: URL_OK, eventTypes: ['a.b', 'c.d'] });
    expect(updated.updatedAt.getTime()).toBeGreaterThan(hook.updatedAt.getTime());
    expect(updated.createdAt).toEqual(hook.createdAt);
  });

  it('checks the cross-field rule on the stored webhook merged with the patch', async () => {
    const r = registry();
    const hook = await r.create('acme', { url: URL_OK, eventTypes: [] });
    const issues = await issuesOf(r.update('acme', hook.id, { limitEvents: ['democon'] }));
    expect(issues[0]?.message).toBe('You can set either limit_events or all_events.');
    const ok = await r.update('acme', hook.id, { limitEvents: ['democon'], allEvents: false });
    expect(ok).toMatchObject({ allEvents: false, limitEvents: ['democon'] });
    const again = await issuesOf(r.update('acme', hook.id, { allEvents: true }));
    expect(again[0]?.code).toBe('limit_events_with_all_events');
  });

  it('replace resets omitted fields to their defaults', async () => {
    const r = registry();
    const hook = await r.create('acme', {
      url: URL_OK,
      eventTypes: ['x'],
      comment: 'old',
      key: 'k',
      method: 'PUT',
    });
    const replaced = await r.replace('acme', hook.id, { url: 'https://other.example/', eventTypes: ['y'] });
    expect(replaced).toMatchObject({
      comment: null,
      key: null,
      method: 'POST',
      eventTypes: ['y'],
      id: hook.id,
    });
  });

  it('update to a key another webhook has is a conflict; an unknown patch field is rejected', async () => {
    const r = registry();
    await r.create('acme', { url: URL_OK, eventTypes: [], key: 'a' });
    const b = await r.create('acme', { url: URL_OK, eventTypes: [], key: 'b' });
    await expect(r.update('acme', b.id, { key: 'a' })).rejects.toBeInstanceOf(ConflictError);
    const issues = await issuesOf(r.update('acme', b.id, { urll: 'x' } as never));
    expect(issues[0]).toMatchObject({ path: ['urll'], code: 'unknown_field' });
  });

  it('disable records the reason, enable clears it; disabling via update is manual', async () => {
    const r = registry();
    const hook = await r.create('acme', { url: URL_OK, eventTypes: [] });
    expect(await r.disable('acme', hook.id, 'gone')).toMatchObject({
      enabled: false,
      disabledReason: 'gone',
    });
    expect(await r.update('acme', hook.id, { comment: 'still gone' })).toMatchObject({
      disabledReason: 'gone',
    });
    expect(await r.enable('acme', hook.id)).toMatchObject({ enabled: true, disabledReason: null });
    expect(await r.update('acme', hook.id, { enabled: false })).toMatchObject({ disabledReason: 'manual' });
    expect((await r.create('acme', { url: URL_OK, eventTypes: [], enabled: false })).disabledReason).toBe(
      'manual',
    );
  });

  it('remove deletes, and a second remove is not found', async () => {
    const r = registry();
    const hook = await r.create('acme', { url: URL_OK, eventTypes: [] });
    await r.remove('acme', hook.id);
    await expect(r.get('acme', hook.id)).rejects.toBeInstanceOf(NotFoundError);
    await expect(r.remove('acme', hook.id)).rejects.toBeInstanceOf(NotFoundError);
  });
});

describe('scoping', () => {
  it('makes a webhook of scope A invisible to every call for scope B', async () => {
    const r = registry();
    const hook = await r.create('a', { url: URL_OK, eventTypes: ['pay'], key: 'k', secrets: [SECRET] });
    await expect(r.get('b', hook.id)).rejects.toBeInstanceOf(NotFoundError);
    await expect(r.getByKey('b', 'k')).rejects.toBeInstanceOf(NotFoundError);
    await expect(r.update('b', hook.id, { comment: 'x' })).rejects.toBeInstanceOf(NotFoundError);
    await expect(r.replace('b', hook.id, { url: URL_OK, eventTypes: [] })).rejects.toBeInstanceOf(
      NotFoundError,
    );
    await expect(r.disable('b', hook.id)).rejects.toBeInstanceOf(NotFoundError);
    await expect(r.remove('b', hook.id)).rejects.toBeInstanceOf(NotFoundError);
    await expect(r.secrets('b', hook.id)).rejects.toBeInstanceOf(NotFoundError);
    expect(await r.list('b')).toEqual({ count: 0, items: [] });
    expect(await r.match({ scope: 'b', type: 'pay', data: {} })).toEqual([]);
    expect(await r.get('a', hook.id)).toMatchObject({ comment: null, enabled: true });
  });

  it("reports a missing webhook and another scope's webhook with the same error", async () => {
    const r = registry();
    const hook = await r.create('a', { url: URL_OK, eventTypes: [] });
    const other = await r.get('b', hook.id).catch((e: unknown) => e);
    const missing = await r.get('b', hook.id + 1).catch((e: unknown) => e);
    expect((other as NotFoundError).code).toBe((missing as NotFoundError).code);
    expect((other as NotFoundError).message).toBe(`No webhook ${hook.id} in scope "b".`);
  });
});

describe('match', () => {
  it('keeps the compiled index current across create, update, disable and remove', async () => {
    const r = registry({ catalog: pretixCatalog });
    const n = { scope: 'acme', type: 'pretix.event.order.changed.item', event: 'democon', data: {} };
    expect(await r.match(n)).toEqual([]);
    const hook = await r.create('acme', { url: URL_OK, eventTypes: ['pretix.event.order.changed.*'] });
    expect((await r.match(n)).map((h) => h.id)).toEqual([hook.id]);
    await r.update('acme', hook.id, { allEvents: false, limitEvents: ['other'] });
    expect(await r.match(n)).toEqual([]);
    await r.update('acme', hook.id, { limitEvents: ['democon'] });
    expect((await r.match(n)).map((h) => h.id)).toEqual([hook.id]);
    await r.disable('acme', hook.id);
    expect(await r.match(n)).toEqual([]);
    await r.enable('acme', hook.id);
    expect(await r.match(n)).toHaveLength(1);
    await r.remove('acme', hook.id);
    expect(await r.match(n)).toEqual([]);
  });

  it('sees webhooks written by another registry (another process) at once, through the store version', async () => {
    const first = registry();
    await first.create('acme', { url: URL_OK, eventTypes: ['pay'] });
    const second = new WebhookRegistry({ store: first.store });
    expect(await second.match({ scope: 'acme', type: 'pay', data: {} })).toHaveLength(1);
    const added = await first.create('acme', { url: URL_OK, eventTypes: ['pay'] });
    expect(await second.match({ scope: 'acme', type: 'pay', data: {} })).toHaveLength(2);
    await first.disable('acme', added.id);
    expect(await second.match({ scope: 'acme', type: 'pay', data: {} })).toHaveLength(1);
    await second.create('acme', { url: URL_OK, eventTypes: ['pay'] });
    expect(await first.match({ scope: 'acme', type: 'pay', data: {} })).toHaveLength(2);
  });

  it('keeps its own writes in the cached index without reloading the scope', async () => {
    const r = registry();
    await r.create('acme', { url: URL_OK, eventTypes: ['pay'] });
    await r.match({ scope: 'acme', type: 'pay', data: {} });
    let reads = 0;
    const listWebhooks = r.store.listWebhooks.bind(r.store);
    r.store.listWebhooks = (input) => {
      reads++;
      return listWebhooks(input);
    };
    const hook = await r.create('acme', { url: URL_OK, eventTypes: ['pay'] });
    await r.update('acme', hook.id, { comment: 'x' });
    expect(await r.match({ scope: 'acme', type: 'pay', data: {} })).toHaveLength(2);
    expect(reads).toBe(0);
  });

  describe('with a store whose enqueue checks the webhook version', () => {
    /**
     * A memory store that says it checks enqueue's webhooksVersion, as the PostgreSQL store
     * does: it answers stale when the version is not the scope's, and `staleAnswers` more
     * times regardless; `drop` makes it a wrapper that loses the version on the way.
     */
    function checking(options: { staleAnswers?: number; drop?: boolean } = {}) {
      const memory = memoryStore();
      let staleAnswers = options.staleAnswers ?? 0;
      const seen: (number | undefined)[] = [];
      let versionReads = 0;
      const store: Store = {
        ...memory,
        enqueueChecksVersion: true,
        webhooksVersion: (input) => {
          versionReads++;
          return memory.webhooksVersion!(input);
        },
        enqueue: async ({ webhooksVersion, ...input }) => {
          seen.push(webhooksVersion);
          if (options.drop || webhooksVersion === undefined) return memory.enqueue(input);
          const current = await memory.webhooksVersion!({ scope: input.scope });
          if (staleAnswers > 0 || webhooksVersion !== current) {
            staleAnswers = Math.max(0, staleAnswers - 1);
            return { created: false, deliveryIds: [], stale: true };
          }
          return { ...(await memory.enqueue(input)), stale: false };
        },
      };
      return { store, seen, reads: () => versionReads };
    }
    const pay = { scope: 'acme', type: 'pay', data: {} };

    it('reads the version only for a cold index, and matches again when the enqueue was stale', async () => {
      const { store, seen, reads } = checking();
      const first = registry({ store });
      const other = new WebhookRegistry({ store });
      await first.create('acme', { url: URL_OK, eventTypes: ['pay'] });
      expect((await first.emit(pay)).deliveries).toBe(1);
      const readsAfterFirst = reads();
      expect((await first.emit(pay)).deliveries).toBe(1);
      expect(reads()).toBe(readsAfterFirst);
      await other.create('acme', { url: URL_OK, eventTypes: ['pay'] }); // another process's write
      expect((await first.emit(pay)).deliveries).toBe(2);
      expect(seen).toEqual([1, 1, 1, 2]); // stale at 1, stored at 2 after a fresh read
    });

    it('stores without a check on the third round when the enqueue keeps coming back stale', async () => {
      const { store, seen } = checking({ staleAnswers: 2 });
      const r = registry({ store });
      await r.create('acme', { url: URL_OK, eventTypes: ['pay'] });
      const result = await r.emit(pay);
      expect(result).toMatchObject({ deliveries: 1, created: true });
      expect(seen).toEqual([1, 1, undefined]);
    });

    it('fails with store_failed when an enqueue answers stale without being asked to check', async () => {
      const memory = memoryStore();
      const store: Store = {
        ...memory,
        enqueueChecksVersion: true,
        enqueue: async () => ({ created: false, deliveryIds: [], stale: true }),
      };
      const r = registry({ store });
      await r.create('acme', { url: URL_OK, eventTypes: ['pay'] });
      await expect(r.emit(pay)).rejects.toMatchObject({ code: 'store_failed' });
    });

    it('reads the version before each emit once the version never reached a check (a wrapper dropped it)', async () => {
      const { store, reads } = checking({ drop: true });
      const first = registry({ store });
      const other = new WebhookRegistry({ store });
      await first.create('acme', { url: URL_OK, eventTypes: ['pay'] });
      await first.emit(pay); // cold: reads; its enqueue answers without stale
      await first.emit(pay); // the version went unchecked once more before the registry knew
      const before = reads();
      await other.create('acme', { url: URL_OK, eventTypes: ['pay'] });
      expect((await first.emit(pay)).deliveries).toBe(2);
      expect(reads()).toBe(before + 1);
    });
  });

  it('without a store version, caches a scope until invalidate()', async () => {
    const first = registry();
    const { webhooksVersion: _dropped, ...store } = first.store;
    const second = new WebhookRegistry({ store });
    await first.create('acme', { url: URL_OK, eventTypes: ['pay'] });
    expect(await second.match({ scope: 'acme', type: 'pay', data: {} })).toHaveLength(1);
    await first.create('acme', { url: URL_OK, eventTypes: ['pay'] });
    expect(await second.match({ scope: 'acme', type: 'pay', data: {} })).toHaveLength(1);
    second.invalidate('acme');
    expect(await second.match({ scope: 'acme', type: 'pay', data: {} })).toHaveLength(2);
  });

  it('rebuilds, rather than guesses, when a store still gives its version as a decimal string', async () => {
    const memory = memoryStore();
    let sneak = false;
    const store: Store = {
      ...memory,
      // An adapter written for the old contract, which returned the version as a string.
      webhooksVersion: async (input) => String(await memory.webhooksVersion?.(input)) as unknown as number,
      insertWebhook: async (input) => {
        if (sneak) {
          sneak = false;
          await memory.insertWebhook(input); // another process's write, during this registry's own
        }
        return memory.insertWebhook(input);
      },
    };
    const r = registry({ store });
    const pay = { scope: 'acme', type: 'pay', data: {} };
    for (let i = 0; i < 9; i++) await r.create('acme', { url: URL_OK, eventTypes: ['pay'] });
    expect(await r.match(pay)).toHaveLength(9); // cached at version '9'
    sneak = true;
    await r.create('acme', { url: URL_OK, eventTypes: ['pay'] }); // version '11': '11' <= '9' + 1 as strings
    expect(await r.match(pay)).toHaveLength(11);
  });

  it('rejects an invalid notification with a ValidationError', async () => {
    const r = registry();
    await expect(r.match({ scope: '', type: 'pay', data: {} })).rejects.toBeInstanceOf(ValidationError);
    await expect(r.match({ scope: 'a', type: '', data: {} })).rejects.toBeInstanceOf(ValidationError);
    await expect(r.match({ scope: 'a', type: 'a.*', data: {} })).rejects.toBeInstanceOf(ValidationError);
  });
});
