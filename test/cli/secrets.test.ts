import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { WebhookRegistry } from '../../src/index.js';
import { generateSecretKey, parseSecretKeys } from '../../src/stores/encrypted.js';
import { type PostgresStore, postgresStore } from '../../src/stores/postgres/index.js';
import { DATABASE_URL, describeServer, destroyStore, serverPool, uniqueSchema } from '../postgres/helpers.js';
import { runCli } from './helpers.js';

// Each test starts the program as a child process (tsx compiles it each time): slow on a busy machine.
vi.setConfig({ testTimeout: 90_000, hookTimeout: 60_000 });

describeServer('hookline rotate-secrets and generate-secret-key', () => {
  let pool: pg.Pool;
  let store: PostgresStore;
  let schema: string;

  beforeAll(async () => {
    pool = serverPool();
    schema = uniqueSchema();
    store = postgresStore({ db: pool, schema });
    await store.migrate();
  });
  afterAll(async () => {
    await destroyStore(store);
    await pool.end();
  });

  it('generate-secret-key prints a usable key, with --id as a list entry', async () => {
    const plain = await runCli(['generate-secret-key']);
    expect(plain.code).toBe(0);
    expect(Buffer.from(plain.stdout.trim(), 'base64')).toHaveLength(32);
    const entry = await runCli(['generate-secret-key', '--id', 'k2']);
    expect(entry.stdout).toMatch(/^k2:[A-Za-z0-9+/]{43}=\n$/);
    expect(parseSecretKeys(entry.stdout.trim())).toHaveLength(1);
  });

  it('re-encrypts plaintext secrets under the newest key, resumably, without printing a key', async () => {
    const plainRegistry = new WebhookRegistry({ store });
    const hooks = [];
    for (let i = 0; i < 5; i++) {
      const secret = `whsec_${randomBytes(24).toString('base64')}`;
      hooks.push(
        await plainRegistry.create('acme', {
          url: `https://r${i}.example/h`,
          eventTypes: ['x.*'],
          secrets: [secret],
        }),
      );
    }
    const secrets = await Promise.all(hooks.map((h) => plainRegistry.secrets('acme', h.id)));
    const raw = async () =>
      (await pool.query(`SELECT secrets::text AS s FROM "${schema}".webhooks ORDER BY id`)).rows.map(
        (r: { s: string }) => r.s,
      );
    expect((await raw()).join()).toContain(secrets[0]?.[0] ?? 'missing');

    const k1 = `k1:${generateSecretKey()}`;
    const env = { DATABASE_URL, HOOKLINE_SECRET_KEYS: k1 };
    const first = await runCli(['rotate-secrets', '--schema', schema, '--batch-size', '2'], { env });
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toBe('rotated 5 of 5 webhooks\n');
    const stored = (await raw()).join();
    for (const s of secrets.flat()) expect(stored).not.toContain(s);
    expect(first.stdout + first.stderr).not.toContain(k1.slice(3));

    // A newer key first: everything moves to it; the secrets read back the same with both keys.
    const k2 = `k2:${generateSecretKey()}`;
    const both = { DATABASE_URL, HOOKLINE_SECRET_KEYS: `${k2},${k1}` };
    const second = await runCli(['rotate-secrets', '--schema', schema, '--json'], { env: both });
    expect(second.code, second.stderr).toBe(0);
    expect(JSON.parse(second.stdout)).toEqual({ scanned: 5, rotated: 5, skipped: 0 });
    const again = await runCli(['rotate-secrets', '--schema', schema, '--json'], { env: both });
    expect(JSON.parse(again.stdout)).toEqual({ scanned: 5, rotated: 0, skipped: 0 });
    const keyed = new WebhookRegistry({ store, secretKeys: parseSecretKeys(`${k2},${k1}`) });
    expect(await Promise.all(hooks.map((h) => keyed.secrets('acme', h.id)))).toEqual(secrets);
  });

  it('without HOOKLINE_SECRET_KEYS: exit 1 saying what to set', async () => {
    const result = await runCli(['rotate-secrets', '--schema', schema], { env: { DATABASE_URL } });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      /^hookline rotate-secrets: Set HOOKLINE_SECRET_KEYS .*\(invalid_option\)\n$/,
    );
  });

  it('a malformed key list: exit 1, the key material not echoed', async () => {
    const result = await runCli(['stats', '--schema', schema], {
      env: { DATABASE_URL, HOOKLINE_SECRET_KEYS: 'k1:not-a-real-key-material' },
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/\(invalid_option\)\n$/);
    expect(result.stderr).not.toContain('not-a-real-key-material');
  });
});
