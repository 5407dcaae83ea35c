import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  generateSecret,
  generateSecretKey,
  HooklineError,
  memoryStore,
  rotateSecrets,
  type SecretKey,
  verifyWebhookSafe,
  WebhookRegistry,
} from '../../src/index.js';
import { type PostgresStore, postgresStore } from '../../src/stores/postgres/index.js';
import { waitForDelivery } from '../../src/testing/index.js';
import { thrownBy } from '../helpers/errors.js';
import { describeServer, dropSchema, serverPool, uniqueSchema } from '../postgres/helpers.js';

const OLD: SecretKey = { id: '2026-06', key: generateSecretKey() };
const NEW: SecretKey = { id: '2026-12', key: generateSecretKey() };
const SSRF = { allow: ['127.0.0.1'] };

/** The part of a `whsec_` secret that is key material (what a dump must never show). */
const material = (secret: string) => secret.slice('whsec_'.length);

async function rejection(promise: Promise<unknown>): Promise<HooklineError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof HooklineError) return error;
    throw error;
  }
  throw new Error('expected a rejection');
}

describe('registry option secretKeys', () => {
  it('is checked like the other options, without echoing a key', () => {
    const key = generateSecretKey();
    for (const secretKeys of [[], [{ id: 'a', key: key.slice(0, 20) }], [NEW, NEW], key]) {
      const error = thrownBy(() => new WebhookRegistry({ secretKeys: secretKeys as SecretKey[] }));
      expect(error.code).toBe('invalid_option');
      expect(error.message).toMatch(/^new WebhookRegistry\(\): option "secretKeys/);
      expect(error.message).not.toContain(key.slice(0, 20));
    }
  });

  it('wraps the store: registry.store encrypts, secrets() reads the plaintext; without keys, plaintext as before', async () => {
    const inner = memoryStore();
    const registry = new WebhookRegistry({ store: inner, secretKeys: [NEW] });
    expect(registry.store).not.toBe(inner);
    const secret = generateSecret();
    const hook = await registry.create('acme', {
      url: 'https://example.com/h',
      eventTypes: ['a.b'],
      secrets: [secret],
    });
    expect(await registry.secrets('acme', hook.id)).toEqual([secret]);
    const [raw] = (await inner.scanWebhooks?.({ afterId: 0, limit: 1 })) ?? [];
    expect(raw?.secrets[0]).toMatch(/^hlenc:v1:2026-12:/);

    const plainStore = memoryStore();
    const plain = new WebhookRegistry({ store: plainStore });
    expect(plain.store).toBe(plainStore);
    const other = await plain.create('acme', {
      url: 'https://example.com/h',
      eventTypes: ['a.b'],
      secrets: [secret],
    });
    expect((await plainStore.getWebhook({ scope: 'acme', id: other.id }))?.secrets).toEqual([secret]);
  });
});

describeServer('secrets encrypted at rest, on the real server', () => {
  let pool: pg.Pool;
  let server: http.Server;
  let base: string;
  /** Every request the receiver got: its path, headers and raw body. */
  let received: { path: string; headers: http.IncomingHttpHeaders; body: string }[] = [];
  const schemas: string[] = [];
  const stores: PostgresStore[] = [];

  beforeAll(async () => {
    pool = serverPool();
    server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        received.push({
          path: req.url ?? '',
          headers: req.headers,
          body: Buffer.concat(chunks).toString('utf8'),
        });
        res.writeHead(204);
        res.end();
      });
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterEach(async () => {
    for (const store of stores.splice(0)) await store.close();
    for (const schema of schemas.splice(0)) await dropSchema(pool, schema);
    received = [];
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await pool.end();
  });

  /** A migrated schema, and a function making another store object (another "process") on it. */
  async function schema(): Promise<{ name: string; store: () => PostgresStore }> {
    const name = uniqueSchema();
    schemas.push(name);
    const store = () => {
      const s = postgresStore({ db: pool, schema: name });
      stores.push(s);
      return s;
    };
    await store().migrate();
    return { name, store };
  }

  /** The whole webhooks table as text, as `SELECT *` (or a dump) shows it. */
  async function dump(name: string): Promise<string> {
    const { rows } = await pool.query(
      `SELECT row_to_json(w)::text AS row FROM "${name}".webhooks AS w ORDER BY id`,
    );
    return rows.map((r: { row: string }) => r.row).join('\n');
  }

  async function storedSecrets(name: string): Promise<string[][]> {
    const { rows } = await pool.query(`SELECT secrets FROM "${name}".webhooks ORDER BY id`);
    return rows.map((r: { secrets: string[] }) => r.secrets);
  }

  it('stores no plaintext secret, and deliveries still verify with the plaintext secret', async () => {
    const { name, store } = await schema();
    const registry = new WebhookRegistry({ store: store(), secretKeys: [NEW] });
    const secrets = [generateSecret(), generateSecret()];
    const hook = await registry.create('acme', { url: `${base}/hook`, eventTypes: ['order.paid'], secrets });
    const text = await dump(name);
    for (const secret of secrets) expect(text).not.toContain(material(secret));
    expect(await storedSecrets(name)).toEqual([
      [expect.stringMatching(/^hlenc:v1:2026-12:/), expect.stringMatching(/^hlenc:v1:2026-12:/)],
    ]);

    const worker = registry.worker({ ssrf: SSRF, timeoutMs: 5_000 });
    const { deliveryIds } = await registry.emit({ scope: 'acme', type: 'order.paid', data: { order: 1 } });
    worker.start();
    try {
      const delivery = await waitForDelivery({
        registry,
        worker,
        scope: 'acme',
        deliveryId: deliveryIds[0] as string,
      });
      expect(delivery.state).toBe('succeeded');
    } finally {
      await worker.stop();
    }
    expect(received).toHaveLength(1);
    const [request] = received;
    for (const secret of secrets) {
      const verified = verifyWebhookSafe({
        body: request?.body ?? '',
        headers: request?.headers ?? {},
        secrets: [secret],
      });
      expect(verified.ok).toBe(true);
    }
    expect(
      verifyWebhookSafe({
        body: request?.body ?? '',
        headers: request?.headers ?? {},
        secrets: [generateSecret()],
      }).ok,
    ).toBe(false);
    expect(hook.secretCount).toBe(2);
  });

  it('with two keys reads old rows and writes new ones under the newest; names an unknown key; refuses a wrong one', async () => {
    const { name, store } = await schema();
    const [a, b] = [generateSecret(), generateSecret()];
    const before = new WebhookRegistry({ store: store(), secretKeys: [OLD] });
    const plain = new WebhookRegistry({ store: store() });
    const old = await before.create('acme', { url: `${base}/a`, eventTypes: ['x.y'], secrets: [a] });
    const legacy = await plain.create('acme', { url: `${base}/p`, eventTypes: ['x.y'], secrets: [b] });
    const after = new WebhookRegistry({ store: store(), secretKeys: [NEW, OLD] });
    const fresh = await after.create('acme', { url: `${base}/b`, eventTypes: ['x.y'], secrets: [b] });
    expect(await after.secrets('acme', old.id)).toEqual([a]);
    expect(await after.secrets('acme', legacy.id)).toEqual([b]);
    expect(await after.secrets('acme', fresh.id)).toEqual([b]);
    const stored = await storedSecrets(name);
    expect(stored[0]?.[0]).toMatch(/^hlenc:v1:2026-06:/);
    expect(stored[1]).toEqual([b]);
    expect(stored[2]?.[0]).toMatch(/^hlenc:v1:2026-12:/);

    const onlyNew = new WebhookRegistry({ store: store(), secretKeys: [NEW] });
    const unknown = await rejection(onlyNew.secrets('acme', old.id));
    expect(unknown.code).toBe('secret_key_unknown');
    expect(unknown.message).toContain('"2026-06"');
    const wrongKey = new WebhookRegistry({
      store: store(),
      secretKeys: [{ id: NEW.id, key: generateSecretKey() }],
    });
    const failed = await rejection(wrongKey.secrets('acme', fresh.id));
    expect(failed.code).toBe('secret_decrypt_failed');
    for (const error of [unknown, failed]) expect(error.message).not.toContain(material(a));
  });

  it('binds a secret to its scope: a value copied into another scope row does not decrypt', async () => {
    const { name, store } = await schema();
    const registry = new WebhookRegistry({ store: store(), secretKeys: [NEW] });
    const mine = await registry.create('acme', {
      url: `${base}/a`,
      eventTypes: ['x.y'],
      secrets: [generateSecret()],
    });
    const theirs = await registry.create('evil', {
      url: `${base}/e`,
      eventTypes: ['x.y'],
      secrets: [generateSecret()],
    });
    await pool.query(
      `UPDATE "${name}".webhooks SET secrets = (SELECT secrets FROM "${name}".webhooks WHERE id = $1) WHERE id = $2`,
      [mine.id, theirs.id],
    );
    const fresh = new WebhookRegistry({ store: store(), secretKeys: [NEW] });
    expect((await rejection(fresh.secrets('evil', theirs.id))).code).toBe('secret_decrypt_failed');
    expect(await fresh.secrets('acme', mine.id)).toHaveLength(1);
  });

  it('rotates every row while a worker delivers and webhooks are updated: nothing lost, every delivery verifies', async () => {
    const { name, store } = await schema();
    const HOOKS = 12;
    const NOTIFICATIONS = 40;
    const oldWeb = new WebhookRegistry({ store: store(), secretKeys: [OLD] });
    const plainWeb = new WebhookRegistry({ store: store() });
    /** path → every secret the webhook ever had (a delivery may be signed with any of them). */
    const everyKnown = new Map<string, string[]>();
    const ids: number[] = [];
    for (let i = 0; i < HOOKS; i++) {
      const secret = generateSecret();
      const registry = i % 3 === 0 ? plainWeb : oldWeb;
      const hook = await registry.create(`s${i % 2}`, {
        url: `${base}/h${i}`,
        eventTypes: ['order.*'],
        secrets: [secret],
      });
      everyKnown.set(`/h${i}`, [secret]);
      ids.push(hook.id);
    }
    // The new key is deployed everywhere (first), then rotation runs.
    const web = new WebhookRegistry({ store: store(), secretKeys: [NEW, OLD] });
    const workers = new WebhookRegistry({ store: store(), secretKeys: [NEW, OLD] });
    for (let n = 0; n < NOTIFICATIONS / 2; n++) {
      for (const scope of ['s0', 's1']) await web.emit({ scope, type: 'order.paid', data: { n } });
    }
    const total = NOTIFICATIONS * (HOOKS / 2);
    const worker = workers.worker({ ssrf: SSRF, timeoutMs: 5_000, concurrency: 8 });
    let finished = 0;
    let allDone: () => void = () => undefined;
    const done = new Promise<void>((resolve) => {
      allDone = resolve;
    });
    for (const event of ['delivery.succeeded', 'delivery.failed', 'delivery.canceled'] as const) {
      worker.on(event, () => {
        finished++;
        if (finished === total) allDone();
      });
    }
    worker.start();
    // Concurrently: the rotation, in small batches, and every webhook updated twice (even ones
    // also get a new signing secret next to the old one, as signing-secret rotation does).
    const expected = new Map<number, { comment: string; secrets: string[] }>();
    const updates = (async () => {
      for (let round = 1; round <= 2; round++) {
        for (let i = 0; i < HOOKS; i++) {
          const id = ids[i] as number;
          const scope = `s${i % 2}`;
          const current = await web.secrets(scope, id);
          const secrets = i % 2 === 0 ? [generateSecret(), ...current].slice(0, 3) : current;
          if (i % 2 === 0) everyKnown.get(`/h${i}`)?.push(secrets[0] as string);
          await web.update(scope, id, { comment: `round ${round}`, secrets });
          expected.set(id, { comment: `round ${round}`, secrets });
        }
      }
    })();
    const rotation = rotateSecrets({ store: store(), keys: [NEW, OLD], batchSize: 2 });
    const [result] = await Promise.all([rotation, updates]);
    expect(result.scanned).toBe(HOOKS);
    await done;
    await worker.stop();

    // A second run picks up anything left; afterwards every row is under the newest key.
    const again = await rotateSecrets({ store: store(), keys: [NEW, OLD] });
    expect(again.skipped).toBe(0);
    for (const secrets of await storedSecrets(name)) {
      for (const value of secrets) expect(value).toMatch(/^hlenc:v1:2026-12:/);
    }
    // Every update kept, read back with the newest key alone (the old one can go now).
    const reader = new WebhookRegistry({ store: store(), secretKeys: [NEW] });
    for (const [i, id] of ids.entries()) {
      const scope = `s${i % 2}`;
      const want = expected.get(id);
      expect((await reader.get(scope, id)).comment).toBe(want?.comment);
      expect(await reader.secrets(scope, id)).toEqual(want?.secrets);
    }
    // Every delivery arrived, signed with a secret its webhook had.
    const { rows } = await pool.query(
      `SELECT state, count(*)::int AS n FROM "${name}".deliveries GROUP BY state`,
    );
    expect(rows).toEqual([{ state: 'succeeded', n: total }]);
    expect(new Set(received.map((r) => r.headers['webhook-id'])).size).toBe(total);
    for (const request of received) {
      const verified = verifyWebhookSafe({
        body: request.body,
        headers: request.headers,
        secrets: everyKnown.get(request.path) ?? [],
      });
      expect(verified.ok, `delivery to ${request.path} verifies`).toBe(true);
    }
    const dumped = await dump(name);
    for (const secrets of everyKnown.values())
      for (const s of secrets) expect(dumped).not.toContain(material(s));
  });

  it('resumes an interrupted rotation: the second run rotates exactly what the first left', async () => {
    const { name, store } = await schema();
    const plain = new WebhookRegistry({ store: store() });
    for (let i = 0; i < 9; i++) {
      await plain.create('acme', { url: `${base}/h${i}`, eventTypes: ['x.y'], secrets: [generateSecret()] });
    }
    const controller = new AbortController();
    const first = await rotateSecrets({
      store: store(),
      keys: [NEW],
      batchSize: 4,
      signal: controller.signal,
      onProgress: (p) => {
        if (p.scanned >= 4) controller.abort(new Error('deploy interrupted'));
      },
    }).catch((error: unknown) => error as Error);
    expect((first as Error).message).toBe('deploy interrupted');
    const halfway = await storedSecrets(name);
    expect(halfway.filter((s) => s[0]?.startsWith('hlenc:')).length).toBe(4);
    const second = await rotateSecrets({ store: store(), keys: [NEW] });
    expect(second).toEqual({ scanned: 9, rotated: 5, skipped: 0 });
    expect((await storedSecrets(name)).every((s) => s[0]?.startsWith('hlenc:v1:2026-12:'))).toBe(true);
  });
});
