/**
 * Conformance part "secrets": the optional `Store.scanWebhooks` (every scope's webhooks in id
 * order, as stored) and `Store.replaceWebhookSecrets` (a compare-and-swap of one webhook's
 * stored secrets that is not an edit), which `rotateSecrets` runs on.
 *
 * The cases compare what `scanWebhooks` returns with what `replaceWebhookSecrets` is given, so
 * they hold for a store that keeps secrets as given and for one that encrypts them
 * (`encryptSecrets`), whose stored form differs from what was written.
 *
 * @module
 */
import { describe, expect } from 'vitest';
import type { Store } from '../../stores/types.js';
import { type ConformanceContext, optedOut, optionalCase, type StoreWith } from './context.js';
import { T0, T1, webhookFields } from './fixtures.js';

const SECRET_A = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const SECRET_B = 'whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD';
const SECRET_C = 'whsec_dGVzdHRlc3R0ZXN0dGVzdHRlc3R0ZXN0dGVzdA==';

/** The stored record of `id` (in any scope), as `scanWebhooks` returns it, or undefined. */
async function scanOne(store: Required<Pick<Store, 'scanWebhooks'>>, id: number) {
  const [record] = await store.scanWebhooks({ afterId: id - 1, limit: 1 });
  return record?.id === id ? record : undefined;
}

/** A store with both methods: the replace cases read what they replace with `scanWebhooks`. */
function both(
  store: StoreWith<'replaceWebhookSecrets'>,
): StoreWith<'replaceWebhookSecrets' | 'scanWebhooks'> {
  expect(typeof store.scanWebhooks, 'a store with replaceWebhookSecrets must have scanWebhooks').toBe(
    'function',
  );
  return store as StoreWith<'replaceWebhookSecrets' | 'scanWebhooks'>;
}

/** Registers the cases of the optional `scanWebhooks` and `replaceWebhookSecrets`. */
export function secretCases(ctx: ConformanceContext): void {
  if (optedOut(ctx, 'scanWebhooks') && optedOut(ctx, 'replaceWebhookSecrets')) return;
  describe('secrets (scanWebhooks, replaceWebhookSecrets)', () => {
    optionalCase(
      ctx,
      'scanWebhooks',
      'scans every scope in id order, paged by the last id',
      async (store) => {
        const ids: number[] = [];
        for (const scope of ['a', 'b', 'a', 'c', 'b']) {
          const hook = await store.insertWebhook({
            scope,
            fields: webhookFields({ secrets: [SECRET_A] }),
            now: T0,
          });
          ids.push(hook.id);
        }
        const all = await store.scanWebhooks({ afterId: 0, limit: 100 });
        expect(all.map((r) => [r.id, r.scope])).toEqual(
          ids.map((id, i) => [id, ['a', 'b', 'a', 'c', 'b'][i]]),
        );
        for (const r of all) expect(r.secrets).toHaveLength(1);
        const seen: number[] = [];
        for (let after = 0; ; ) {
          const page = await store.scanWebhooks({ afterId: after, limit: 2 });
          expect(page.length).toBeLessThanOrEqual(2);
          if (page.length === 0) break;
          seen.push(...page.map((r) => r.id));
          after = page[page.length - 1]?.id ?? after;
        }
        expect(seen).toEqual(ids);
        expect(await store.scanWebhooks({ afterId: ids[4] as number, limit: 10 })).toEqual([]);
      },
    );

    optionalCase(ctx, 'scanWebhooks', 'returns copies', async (store) => {
      const hook = await store.insertWebhook({
        scope: 'a',
        fields: webhookFields({ secrets: [SECRET_A] }),
        now: T0,
      });
      const [first] = await store.scanWebhooks({ afterId: 0, limit: 1 });
      const stored = first?.secrets[0];
      first?.secrets.push('whsec_mutated');
      const again = await scanOne(store, hook.id);
      expect(again?.secrets).toEqual([stored]);
    });

    optionalCase(
      ctx,
      'replaceWebhookSecrets',
      'replaces the secrets read, and nothing else: not updatedAt, not the version',
      async (replacing) => {
        const store = both(replacing);
        const hook = await store.insertWebhook({
          scope: 'a',
          fields: webhookFields({ secrets: [SECRET_A, SECRET_B], comment: 'kept' }),
          now: T0,
        });
        const version = await store.webhooksVersion?.({ scope: 'a' });
        const read = await scanOne(store, hook.id);
        expect(read).toBeDefined();
        const replaced = await store.replaceWebhookSecrets({
          scope: 'a',
          id: hook.id,
          expected: read?.secrets ?? [],
          secrets: [SECRET_C],
        });
        expect(replaced).toBe(true);
        expect((await scanOne(store, hook.id))?.secrets).toEqual([SECRET_C]);
        const after = await store.getWebhook({ scope: 'a', id: hook.id });
        expect(after?.secrets).toEqual([SECRET_C]);
        expect(after?.comment).toBe('kept');
        expect(after?.updatedAt.getTime()).toBe(T0.getTime());
        expect(await store.webhooksVersion?.({ scope: 'a' })).toBe(version);
      },
    );

    optionalCase(
      ctx,
      'replaceWebhookSecrets',
      'refuses when the secrets are not exactly the expected ones, or the webhook is not in that scope',
      async (replacing) => {
        const store = both(replacing);
        const hook = await store.insertWebhook({
          scope: 'a',
          fields: webhookFields({ secrets: [SECRET_A, SECRET_B] }),
          now: T0,
        });
        const stored = (await scanOne(store, hook.id))?.secrets ?? [];
        const attempt = (scope: string, id: number, expected: readonly string[]) =>
          store.replaceWebhookSecrets({ scope, id, expected, secrets: [SECRET_C] });
        expect(await attempt('a', hook.id, [...stored].reverse())).toBe(false);
        expect(await attempt('a', hook.id, stored.slice(0, 1))).toBe(false);
        expect(await attempt('a', hook.id, [...stored, SECRET_C])).toBe(false);
        expect(await attempt('a', hook.id, [])).toBe(false);
        expect(await attempt('b', hook.id, stored)).toBe(false);
        expect(await attempt('a', hook.id + 1000, stored)).toBe(false);
        expect((await scanOne(store, hook.id))?.secrets).toEqual(stored);
      },
    );

    optionalCase(
      ctx,
      'replaceWebhookSecrets',
      'loses to an update of the secrets made after the read, and keeps an update of other fields',
      async (replacing) => {
        const store = both(replacing);
        const hook = await store.insertWebhook({
          scope: 'a',
          fields: webhookFields({ secrets: [SECRET_A] }),
          now: T0,
        });
        const read = (await scanOne(store, hook.id))?.secrets ?? [];
        await store.updateWebhook({ scope: 'a', id: hook.id, changes: { secrets: [SECRET_B] }, now: T1 });
        expect(
          await store.replaceWebhookSecrets({ scope: 'a', id: hook.id, expected: read, secrets: [SECRET_C] }),
        ).toBe(false);
        expect((await store.getWebhook({ scope: 'a', id: hook.id }))?.secrets).toEqual([SECRET_B]);

        const now = (await scanOne(store, hook.id))?.secrets ?? [];
        await store.updateWebhook({ scope: 'a', id: hook.id, changes: { comment: 'edited' }, now: T1 });
        const current = (await scanOne(store, hook.id))?.secrets ?? [];
        const replaced = await store.replaceWebhookSecrets({
          scope: 'a',
          id: hook.id,
          expected: current,
          secrets: [SECRET_C],
        });
        expect(replaced).toBe(true);
        const after = await store.getWebhook({ scope: 'a', id: hook.id });
        expect(after?.secrets).toEqual([SECRET_C]);
        expect(after?.comment).toBe('edited');
        expect(now).toEqual(current);
      },
    );

    optionalCase(
      ctx,
      'replaceWebhookSecrets',
      'lets exactly one of two racing replaces win',
      async (replacing) => {
        const store = both(replacing);
        const hook = await store.insertWebhook({
          scope: 'a',
          fields: webhookFields({ secrets: [SECRET_A] }),
          now: T0,
        });
        const read = (await scanOne(store, hook.id))?.secrets ?? [];
        const results = await Promise.all(
          [SECRET_B, SECRET_C].map((secret) =>
            store.replaceWebhookSecrets({ scope: 'a', id: hook.id, expected: read, secrets: [secret] }),
          ),
        );
        expect(results.filter(Boolean)).toHaveLength(1);
        const winner = results[0] ? SECRET_B : SECRET_C;
        expect((await scanOne(store, hook.id))?.secrets).toEqual([winner]);
      },
    );
  });
}
