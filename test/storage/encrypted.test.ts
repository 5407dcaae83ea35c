import { randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  encryptSecrets,
  generateSecretKey,
  HooklineError,
  memoryStore,
  parseSecretKeys,
  rotateSecrets,
  type SecretKey,
  type Store,
} from '../../src/index.js';
import type { PostgresStore } from '../../src/stores/postgres/index.js';
import { newDelivery, storeConformance, webhookFields } from '../../src/testing/conformance-index.js';
import { thrownBy } from '../helpers/errors.js';
import { describeServer, destroyStore, dropRunSchemas, freshStore, serverPool } from '../postgres/helpers.js';

const OLD: SecretKey = { id: '2026-06', key: generateSecretKey() };
const NEW: SecretKey = { id: '2026-12', key: randomBytes(32) };
const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const OTHER = 'whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD';
const T0 = new Date('2026-01-01T00:00:00Z');

/** The stored form of one webhook's secrets (what a database dump shows). */
async function stored(store: Store, id: number): Promise<string[]> {
  const [record] = (await store.scanWebhooks?.({ afterId: id - 1, limit: 1 })) ?? [];
  if (record?.id !== id) throw new Error(`no webhook ${id}`);
  return record.secrets;
}

/** The rejection of `promise`, which must be a HooklineError. */
async function rejection(promise: Promise<unknown>): Promise<HooklineError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof HooklineError) return error;
    throw error;
  }
  throw new Error('expected a rejection');
}

storeConformance({
  name: 'memory, secrets encrypted',
  createStore: () => encryptSecrets(memoryStore(), { keys: [NEW, OLD] }),
  capabilities: {
    watch: true,
    webhooksVersion: true,
    close: false,
    outboxStats: true,
    scanWebhooks: true,
    replaceWebhookSecrets: true,
  },
});

describeServer('postgres, secrets encrypted', () => {
  let pool: pg.Pool;
  beforeAll(() => {
    pool = serverPool();
  });
  afterAll(async () => {
    await dropRunSchemas(pool);
    await pool.end();
  });

  storeConformance({
    name: 'postgres on a pg.Pool, secrets encrypted',
    createStore: async () => encryptSecrets(await freshStore(pool), { keys: [NEW, OLD] }),
    destroyStore: (store) => destroyStore(store as PostgresStore),
    capabilities: {
      watch: true,
      webhooksVersion: true,
      close: true,
      outboxStats: true,
      scanWebhooks: true,
      replaceWebhookSecrets: true,
    },
  });
});

describe('encryptSecrets: keys', () => {
  const make = (keys: unknown) => () => encryptSecrets(memoryStore(), { keys: keys as SecretKey[] });

  it.each([
    ['an empty list', [], /non-empty array/],
    ['a missing list', undefined, /non-empty array/],
    ['a key of 16 bytes', [{ id: 'a', key: randomBytes(16) }], /"keys\[0\]\.key".*32 bytes.*got 16 bytes/],
    ['base64 of 31 bytes', [{ id: 'a', key: randomBytes(31).toString('base64') }], /"keys\[0\]\.key"/],
    ['two keys with one id', [NEW, { id: NEW.id, key: generateSecretKey() }], /"2026-12" twice/],
    ['an id with a colon', [{ id: 'a:b', key: generateSecretKey() }], /"keys\[0\]\.id"/],
    ['an id of 33 characters', [{ id: 'x'.repeat(33), key: generateSecretKey() }], /"keys\[0\]\.id"/],
    ['a bare string', ['2026-12:abc'], /"keys\[0\]" must be an object/],
  ])('refuses %s as invalid_option', (_name, keys, message) => {
    const error = thrownBy(make(keys));
    expect(error.code).toBe('invalid_option');
    expect(error.message).toMatch(message);
  });

  it('never puts a key in an error message', () => {
    const text = randomBytes(31).toString('base64');
    const bad = thrownBy(make([{ id: 'a', key: text }]));
    expect(bad.message).not.toContain(text);
    // A key given where the list belongs, and one given as an id.
    const asList = thrownBy(make(generateSecretKey()));
    expect(asList.message).toMatch(/got a string\./);
    const key = generateSecretKey();
    expect(thrownBy(make([{ id: key, key }])).message).not.toContain(key.slice(0, 8));
  });

  it('accepts base64, base64url and bytes; the newest (first) encrypts', async () => {
    const bytes = randomBytes(32);
    for (const key of [bytes, bytes.toString('base64'), bytes.toString('base64url')]) {
      const store = encryptSecrets(memoryStore(), { keys: [{ id: 'k', key }, OLD] });
      const hook = await store.insertWebhook({
        scope: 'a',
        fields: webhookFields({ secrets: [SECRET] }),
        now: T0,
      });
      expect((await stored(store, hook.id))[0]).toMatch(/^hlenc:v1:k:[A-Za-z0-9_-]{16}:[A-Za-z0-9_-]+$/);
    }
  });

  it('keeps the keys out of inspect(), JSON and toString()', () => {
    const key = generateSecretKey();
    const store = encryptSecrets(memoryStore(), { keys: [{ id: 'k', key }] });
    const shown = `${inspect(store, { depth: 5, showHidden: true })} ${JSON.stringify(store)} ${String(store)}`;
    expect(shown).not.toContain(key);
    expect(shown).not.toContain(Buffer.from(key, 'base64').toString('hex'));
  });
});

describe('parseSecretKeys and generateSecretKey', () => {
  it('reads comma-separated id:base64 entries, newest first, spaces ignored', () => {
    const a = generateSecretKey();
    const b = randomBytes(32).toString('base64url');
    expect(parseSecretKeys(` 2026-12:${a} , 2026-06:${b},`)).toEqual([
      { id: '2026-12', key: a },
      { id: '2026-06', key: b },
    ]);
  });

  it.each([
    ['an empty text', '', /non-empty/],
    ['an entry without a colon', `${generateSecretKey()}`, /entry 1 .*has no ":"/],
    ['a short key', 'a:AAAA', /"HOOKLINE_SECRET_KEYS\[0\]\.key" \(id "a"\)/],
    ['a duplicate id', `a:${generateSecretKey()},a:${generateSecretKey()}`, /"a" twice/],
  ])('refuses %s as invalid_option, without the key', (_name, text, message) => {
    const error = thrownBy(() => parseSecretKeys(text));
    expect(error.code).toBe('invalid_option');
    expect(error.message).toMatch(message);
    for (const part of text.split(/[,:]/)) if (part.length > 8) expect(error.message).not.toContain(part);
  });

  it('generates 32 random bytes as base64', () => {
    const [a, b] = [generateSecretKey(), generateSecretKey()];
    expect(Buffer.from(a, 'base64')).toHaveLength(32);
    expect(a).toMatch(/^[A-Za-z0-9+/]{43}=$/);
    expect(a).not.toBe(b);
  });
});

describe('encryptSecrets: what is stored and read', () => {
  it('stores ciphertext only (a fresh IV per value) and reads back what was written, everywhere', async () => {
    const inner = memoryStore();
    const store = encryptSecrets(inner, { keys: [NEW] });
    const hook = await store.insertWebhook({
      scope: 'a',
      fields: webhookFields({ key: 'k', secrets: [SECRET, SECRET] }),
      now: T0,
    });
    expect(hook.secrets).toEqual([SECRET, SECRET]);
    const raw = await stored(inner, hook.id);
    expect(raw).toHaveLength(2);
    expect(raw[0]).not.toBe(raw[1]);
    expect(JSON.stringify(await inner.getWebhook({ scope: 'a', id: hook.id }))).not.toContain(
      SECRET.slice(6),
    );

    expect((await store.getWebhook({ scope: 'a', id: hook.id }))?.secrets).toEqual([SECRET, SECRET]);
    expect((await store.getWebhookByKey({ scope: 'a', key: 'k' }))?.secrets).toEqual([SECRET, SECRET]);
    expect((await store.listWebhooks({ scope: 'a', offset: 0, limit: null })).items[0]?.secrets).toEqual([
      SECRET,
      SECRET,
    ]);
    const updated = await store.updateWebhook({
      scope: 'a',
      id: hook.id,
      changes: { secrets: [OTHER] },
      now: T0,
    });
    expect(updated?.secrets).toEqual([OTHER]);
    expect((await stored(inner, hook.id))[0]).toMatch(/^hlenc:v1:2026-12:/);
    const renamed = await store.updateWebhook({
      scope: 'a',
      id: hook.id,
      changes: { comment: 'c' },
      now: T0,
    });
    expect(renamed?.secrets).toEqual([OTHER]);

    await store.enqueue({
      scope: 'a',
      notificationId: 'n',
      deliveries: [newDelivery(hook.id), newDelivery(hook.id)],
      now: T0,
    });
    const claims = await store.claimDue({ limit: 10, leaseMs: 60_000, now: T0 });
    expect(claims.map((c) => c.webhook?.secrets)).toEqual([[OTHER], [OTHER]]);
    expect(Object.isFrozen(claims[0]?.webhook)).toBe(true);
    // Claims of one webhook share one decrypted snapshot, as the memory store shares its own.
    expect(claims[0]?.webhook).toBe(claims[1]?.webhook);
  });

  it('reads plaintext secrets stored before keys were configured as they are', async () => {
    const inner = memoryStore();
    const plain = await inner.insertWebhook({
      scope: 'a',
      fields: webhookFields({ secrets: [SECRET] }),
      now: T0,
    });
    const store = encryptSecrets(inner, { keys: [NEW] });
    expect((await store.getWebhook({ scope: 'a', id: plain.id }))?.secrets).toEqual([SECRET]);
    expect(await stored(inner, plain.id)).toEqual([SECRET]);
  });

  it('with two keys, reads rows of the old key and writes under the newest', async () => {
    const inner = memoryStore();
    const before = encryptSecrets(inner, { keys: [OLD] });
    const old = await before.insertWebhook({
      scope: 'a',
      fields: webhookFields({ secrets: [SECRET] }),
      now: T0,
    });
    const after = encryptSecrets(inner, { keys: [NEW, OLD] });
    const fresh = await after.insertWebhook({
      scope: 'a',
      fields: webhookFields({ secrets: [OTHER] }),
      now: T0,
    });
    expect((await stored(inner, old.id))[0]).toMatch(/^hlenc:v1:2026-06:/);
    expect((await stored(inner, fresh.id))[0]).toMatch(/^hlenc:v1:2026-12:/);
    expect(
      (await after.listWebhooks({ scope: 'a', offset: 0, limit: null })).items.map((w) => w.secrets),
    ).toEqual([[SECRET], [OTHER]]);
  });

  it('names an unknown key id (secret_key_unknown) and reports a wrong key (secret_decrypt_failed), never the secret', async () => {
    const inner = memoryStore();
    const hook = await encryptSecrets(inner, { keys: [OLD] }).insertWebhook({
      scope: 'a',
      fields: webhookFields({ secrets: [SECRET] }),
      now: T0,
    });
    const unknown = await rejection(
      encryptSecrets(inner, { keys: [NEW] }).getWebhook({ scope: 'a', id: hook.id }),
    );
    expect(unknown.code).toBe('secret_key_unknown');
    expect(unknown.message).toContain('"2026-06"');
    const wrong = await rejection(
      encryptSecrets(inner, { keys: [{ id: OLD.id, key: generateSecretKey() }] }).getWebhook({
        scope: 'a',
        id: hook.id,
      }),
    );
    expect(wrong.code).toBe('secret_decrypt_failed');
    for (const error of [unknown, wrong]) {
      expect(`${error.message} ${JSON.stringify(error)} ${String(error.cause)}`).not.toContain(
        SECRET.slice(6),
      );
    }
  });

  it('binds a value to its scope: copied to another scope, it does not decrypt (also when cached)', async () => {
    const inner = memoryStore();
    const store = encryptSecrets(inner, { keys: [NEW] });
    const a = await store.insertWebhook({
      scope: 'a',
      fields: webhookFields({ secrets: [SECRET] }),
      now: T0,
    });
    const b = await store.insertWebhook({ scope: 'b', fields: webhookFields({ secrets: [OTHER] }), now: T0 });
    expect((await store.getWebhook({ scope: 'a', id: a.id }))?.secrets).toEqual([SECRET]); // now cached
    const copied = await inner.replaceWebhookSecrets?.({
      scope: 'b',
      id: b.id,
      expected: await stored(inner, b.id),
      secrets: await stored(inner, a.id),
    });
    expect(copied).toBe(true);
    const error = await rejection(store.getWebhook({ scope: 'b', id: b.id }));
    expect(error.code).toBe('secret_decrypt_failed');
    const fresh = encryptSecrets(inner, { keys: [NEW] });
    expect((await rejection(fresh.getWebhook({ scope: 'b', id: b.id }))).code).toBe('secret_decrypt_failed');
  });

  it('withholds a claim whose secret cannot be decrypted (left leased, reported), and hands out the others', async () => {
    const inner = memoryStore();
    const good = await encryptSecrets(inner, { keys: [NEW] }).insertWebhook({
      scope: 'a',
      fields: webhookFields({ secrets: [SECRET] }),
      now: T0,
    });
    const bad = await encryptSecrets(inner, {
      keys: [{ id: 'lost', key: generateSecretKey() }],
    }).insertWebhook({
      scope: 'a',
      fields: webhookFields({ secrets: [SECRET] }),
      now: T0,
    });
    const reported: { code: string; webhookId: number; message: string }[] = [];
    const store = encryptSecrets(inner, {
      keys: [NEW],
      onError: (error, at) =>
        reported.push({ code: error.code, webhookId: at.webhookId, message: error.message }),
    });
    await store.enqueue({
      scope: 'a',
      notificationId: 'n',
      deliveries: [newDelivery(bad.id), newDelivery(good.id)],
      now: T0,
    });
    const claims = await store.claimDue({ limit: 10, leaseMs: 60_000, now: T0 });
    expect(claims.map((c) => c.webhookId)).toEqual([good.id]);
    expect(reported).toEqual([
      { code: 'secret_key_unknown', webhookId: bad.id, message: expect.stringContaining('"lost"') },
    ]);
    // Still leased: not claimable again before the lease ends, claimable after it.
    expect(await store.claimDue({ limit: 10, leaseMs: 60_000, now: new Date(T0.getTime() + 1_000) })).toEqual(
      [],
    );
    expect(await store.outboxSummary({ now: T0 })).toMatchObject({ pending: 2 });
  });

  it('defines the optional methods only when the store has them, and keeps its other properties', async () => {
    const bare: Store = { ...memoryStore() };
    delete bare.watch;
    delete bare.scanWebhooks;
    const wrapped = encryptSecrets(bare, { keys: [NEW] });
    expect(wrapped.watch).toBeUndefined();
    expect(wrapped.scanWebhooks).toBeUndefined();
    expect(typeof wrapped.outboxStats).toBe('function');
    expect(wrapped.name).toBe('memory');
    const extended = encryptSecrets(
      Object.assign(memoryStore(), { schema: 'x', migrate: async () => 'done' }),
      {
        keys: [NEW],
      },
    );
    expect(extended.schema).toBe('x');
    expect(await extended.migrate()).toBe('done');
  });
});

describe('rotateSecrets on the memory store', () => {
  /** A store with `count` webhooks across scopes: plaintext, under OLD, and already under NEW. */
  async function mixed(count: number) {
    const inner = memoryStore();
    const plain = inner;
    const old = encryptSecrets(inner, { keys: [OLD] });
    const current = encryptSecrets(inner, { keys: [NEW] });
    const secrets = new Map<number, string[]>();
    for (let i = 0; i < count; i++) {
      const via = [plain, old, current][i % 3] as Store;
      const own = [
        `whsec_${randomBytes(24).toString('base64')}`,
        `whsec_${randomBytes(24).toString('base64')}`,
      ];
      const hook = await via.insertWebhook({
        scope: `s${i % 4}`,
        fields: webhookFields({ secrets: own }),
        now: T0,
      });
      secrets.set(hook.id, own);
    }
    return { inner, secrets };
  }

  it('re-encrypts plaintext and old-key rows under the newest key; a second run changes nothing', async () => {
    const { inner, secrets } = await mixed(30);
    const progress: { scanned: number; rotated: number }[] = [];
    const result = await rotateSecrets({
      store: inner,
      keys: [NEW, OLD],
      batchSize: 7,
      onProgress: (p) => progress.push(p),
    });
    expect(result).toEqual({ scanned: 30, rotated: 20, skipped: 0 });
    expect(progress.map((p) => p.scanned)).toEqual([7, 14, 21, 28, 30]);
    const reader = encryptSecrets(inner, { keys: [NEW] }); // the old key can go now
    for (const [id, own] of secrets) {
      for (const value of await stored(inner, id)) expect(value).toMatch(/^hlenc:v1:2026-12:/);
      const scope = (await inner.scanWebhooks?.({ afterId: id - 1, limit: 1 }))?.[0]?.scope as string;
      expect((await reader.getWebhook({ scope, id }))?.secrets).toEqual(own);
    }
    const before = await inner.scanWebhooks?.({ afterId: 0, limit: 100 });
    expect(await rotateSecrets({ store: inner, keys: [NEW, OLD] })).toEqual({
      scanned: 30,
      rotated: 0,
      skipped: 0,
    });
    expect(await inner.scanWebhooks?.({ afterId: 0, limit: 100 })).toEqual(before);
  });

  it('resumes after an abort: nothing half-written, the next run finishes', async () => {
    const { inner, secrets } = await mixed(12);
    const controller = new AbortController();
    const error = await rotateSecrets({
      store: inner,
      keys: [NEW, OLD],
      batchSize: 5,
      signal: controller.signal,
      onProgress: () => controller.abort(new Error('stop')),
    }).catch((e: unknown) => e);
    expect((error as Error).message).toBe('stop');
    const all = (await inner.scanWebhooks?.({ afterId: 0, limit: 100 })) ?? [];
    const done = all.filter((r) => r.secrets.every((s) => s.startsWith('hlenc:v1:2026-12:')));
    expect(all.slice(0, 5).every((r) => done.includes(r))).toBe(true);
    expect(done.length).toBeLessThan(12);
    const rest = await rotateSecrets({
      store: encryptSecrets(inner, { keys: [NEW, OLD] }),
      keys: [NEW, OLD],
    });
    expect(rest.scanned).toBe(12);
    expect(rest.rotated).toBe(12 - done.length);
    const reader = encryptSecrets(inner, { keys: [NEW] });
    for (const r of all)
      expect((await reader.getWebhook({ scope: r.scope, id: r.id }))?.secrets).toEqual(secrets.get(r.id));
  });

  it('never overwrites a change made between its read and its write (compare-and-swap)', async () => {
    const { inner } = await mixed(3);
    const writer = encryptSecrets(inner, { keys: [NEW, OLD] });
    const [first] = (await inner.scanWebhooks?.({ afterId: 0, limit: 1 })) ?? [];
    const id = first?.id as number;
    const scope = first?.scope as string;
    let raced = 0;
    // Every replace of the first webhook is preceded by a user's change of its secrets.
    const racing: Store = {
      ...inner,
      async replaceWebhookSecrets(input) {
        if (input.id === id && raced < 5) {
          raced++;
          await writer.updateWebhook({
            scope,
            id,
            changes: { secrets: [OTHER, `whsec_${raced}AAAAAAAAAAAAAAAAAAAAAAAAAAA`] },
            now: T0,
          });
        }
        return (inner.replaceWebhookSecrets as NonNullable<Store['replaceWebhookSecrets']>)(input);
      },
    };
    // Plaintext rows: the user's change (made by a process that has the new key) is already
    // under the newest key, so after the first lost race there is nothing left to do.
    const result = await rotateSecrets({ store: racing, keys: [NEW, OLD] });
    expect(raced).toBe(1);
    expect(result).toMatchObject({ scanned: 3, skipped: 0 });
    expect((await writer.getWebhook({ scope, id }))?.secrets).toEqual([
      OTHER,
      'whsec_1AAAAAAAAAAAAAAAAAAAAAAAAAAA',
    ]);

    // A writer still on the old key keeps losing: after 3 tries the row is left for the next run.
    const oldWriter = encryptSecrets(inner, { keys: [OLD] });
    await oldWriter.updateWebhook({ scope, id, changes: { secrets: [SECRET] }, now: T0 });
    let changes = 0;
    const stubborn: Store = {
      ...inner,
      async replaceWebhookSecrets(input) {
        changes++;
        await oldWriter.updateWebhook({
          scope,
          id,
          changes: { secrets: [`whsec_${changes}BBBBBBBBBBBBBBBBBBBBBBBBBBB`] },
          now: T0,
        });
        return (inner.replaceWebhookSecrets as NonNullable<Store['replaceWebhookSecrets']>)(input);
      },
    };
    const left = await rotateSecrets({ store: stubborn, keys: [NEW, OLD] });
    expect(left).toMatchObject({ rotated: 0, skipped: 1 });
    expect((await writer.getWebhook({ scope, id }))?.secrets).toEqual([
      `whsec_${changes}BBBBBBBBBBBBBBBBBBBBBBBBBBB`,
    ]);
  });

  it('stops at a value under a key it does not have, and needs the two store methods', async () => {
    const { inner } = await mixed(3);
    const error = await rejection(rotateSecrets({ store: inner, keys: [NEW] }));
    expect(error.code).toBe('secret_key_unknown');
    const bare: Store = { ...memoryStore() };
    delete bare.scanWebhooks;
    const unsupported = await rejection(rotateSecrets({ store: bare, keys: [NEW] }));
    expect(unsupported.code).toBe('store_unsupported');
    expect(unsupported.message).toContain('scanWebhooks');
    expect((await rejection(rotateSecrets({ store: inner, keys: [NEW], batchSize: 0 }))).code).toBe(
      'invalid_option',
    );
  });
});
