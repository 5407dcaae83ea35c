import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import {
  generateKeyPair,
  generateSecret,
  SignatureError,
  type SignatureFailureReason,
  signWebhook,
  type VerifyInput,
  verifyWebhook,
  verifyWebhookSafe,
  webhookHeaders,
} from '../../src/delivery/signing.js';
import { HooklineError, ValidationError } from '../../src/errors.js';

const VECTOR = {
  secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  id: 'msg_p5jXN8AQM9LWM0D4loKWxJek',
  timestamp: 1614265330,
  body: '{"test": 2432232314}',
  signature: 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
};
const NOW_MS = VECTOR.timestamp * 1000;

function vectorHeaders(signature = VECTOR.signature): Record<string, string> {
  return {
    'webhook-id': VECTOR.id,
    'webhook-timestamp': String(VECTOR.timestamp),
    'webhook-signature': signature,
  };
}

function reasonOf(fn: () => unknown): SignatureFailureReason | undefined {
  try {
    fn();
  } catch (err) {
    if (err instanceof SignatureError) return err.reason;
    throw err;
  }
  return undefined;
}

function verifyAt(input: Omit<VerifyInput, 'now'>, nowMs = NOW_MS) {
  return verifyWebhook({ ...input, now: nowMs });
}

describe('signWebhook', () => {
  it('matches the published Standard Webhooks test vector', () => {
    expect(signWebhook({ ...VECTOR, secrets: [VECTOR.secret] })).toBe(VECTOR.signature);
  });

  it('signs a Uint8Array body byte for byte (also bytes that are not UTF-8)', () => {
    const body = new Uint8Array([0xff, 0x00, 0xfe, 0x7b]);
    const key = Buffer.from(VECTOR.secret.slice('whsec_'.length), 'base64');
    const expected = createHmac('sha256', key)
      .update(Buffer.concat([Buffer.from(`${VECTOR.id}.${VECTOR.timestamp}.`), body]))
      .digest('base64');
    expect(signWebhook({ id: VECTOR.id, timestamp: VECTOR.timestamp, body, secrets: [VECTOR.secret] })).toBe(
      `v1,${expected}`,
    );
  });

  it('gives one entry per secret, in order, whsec → v1 and whsk → v1a', () => {
    const other = generateSecret();
    const { secretKey } = generateKeyPair();
    const sig = signWebhook({ ...VECTOR, secrets: [VECTOR.secret, secretKey, other] });
    const entries = sig.split(' ');
    expect(entries).toHaveLength(3);
    expect(entries[0]).toBe(VECTOR.signature);
    expect(entries[1]).toMatch(/^v1a,[A-Za-z0-9+/]{86}==$/);
    expect(entries[2]).toMatch(/^v1,[A-Za-z0-9+/]{43}=$/);
  });

  it('returns an empty string without secrets', () => {
    expect(signWebhook({ ...VECTOR, secrets: [] })).toBe('');
  });

  it.each([
    ['public key', 'whpk_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA='],
    ['no prefix', 'MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'],
    ['empty whsec', 'whsec_'],
    ['bad base64', 'whsec_not base64!'],
    ['short whsk', 'whsk_AAAA'],
  ])('rejects a %s as invalid_secret', (_label, secret) => {
    expect(reasonOf(() => signWebhook({ ...VECTOR, secrets: [secret] }))).toBe('invalid_secret');
  });

  it('rejects a 64-byte whsk_ whose public half does not match the seed', () => {
    const a = Buffer.from(generateKeyPair().secretKey.slice(5), 'base64');
    const b = Buffer.from(generateKeyPair().secretKey.slice(5), 'base64');
    const mixed = `whsk_${Buffer.concat([a.subarray(0, 32), b.subarray(32)]).toString('base64')}`;
    expect(reasonOf(() => signWebhook({ ...VECTOR, secrets: [mixed] }))).toBe('invalid_secret');
  });

  it.each([1.5, -1, Number.NaN])('rejects timestamp %s with a ValidationError', (timestamp) => {
    expect(() => signWebhook({ ...VECTOR, timestamp, secrets: [VECTOR.secret] })).toThrow(ValidationError);
  });

  it('rejects an empty id with a ValidationError', () => {
    expect(() => signWebhook({ ...VECTOR, id: '', secrets: [VECTOR.secret] })).toThrow(ValidationError);
  });
});

describe('webhookHeaders', () => {
  it('builds the three headers', () => {
    expect(webhookHeaders({ ...VECTOR, secrets: [VECTOR.secret] })).toEqual(vectorHeaders());
  });

  it('omits webhook-signature without secrets', () => {
    const headers = webhookHeaders({ ...VECTOR, secrets: [] });
    expect(headers).toEqual({ 'webhook-id': VECTOR.id, 'webhook-timestamp': String(VECTOR.timestamp) });
    expect('webhook-signature' in headers).toBe(false);
  });
});

describe('generateSecret / generateKeyPair', () => {
  it('generates 32 random bytes by default', () => {
    const secret = generateSecret();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]+={0,2}$/);
    expect(Buffer.from(secret.slice(6), 'base64')).toHaveLength(32);
    expect(generateSecret()).not.toBe(secret);
  });

  it.each([24, 64])('accepts bytes = %i', (bytes) => {
    expect(Buffer.from(generateSecret({ bytes }).slice(6), 'base64')).toHaveLength(bytes);
  });

  it.each([0, 23, 65, 32.5])('rejects bytes = %s', (bytes) => {
    expect(() => generateSecret({ bytes })).toThrow(ValidationError);
  });

  it('generated secrets interoperate with the reference library', () => {
    const secret = generateSecret();
    const ts = Math.floor(Date.now() / 1000);
    const ref = new Webhook(secret).sign('msg_x', new Date(ts * 1000), 'hello');
    expect(signWebhook({ id: 'msg_x', timestamp: ts, body: 'hello', secrets: [secret] })).toBe(ref);
  });

  it('generates a whsk_ (64-byte seed+public) and whpk_ (32-byte) pair', () => {
    const { secretKey, publicKey } = generateKeyPair();
    const sk = Buffer.from(secretKey.slice(5), 'base64');
    const pk = Buffer.from(publicKey.slice(5), 'base64');
    expect(secretKey.startsWith('whsk_')).toBe(true);
    expect(publicKey.startsWith('whpk_')).toBe(true);
    expect(sk).toHaveLength(64);
    expect(pk).toHaveLength(32);
    expect(sk.subarray(32).equals(pk)).toBe(true);
  });
});

describe('verifyWebhook', () => {
  it('accepts the published test vector', () => {
    expect(verifyAt({ body: VECTOR.body, headers: vectorHeaders(), secrets: [VECTOR.secret] })).toEqual({
      id: VECTOR.id,
      timestamp: VECTOR.timestamp,
      secretIndex: 0,
    });
  });

  it('reads a Headers object and mixed-case plain records', () => {
    const headers = new Headers(vectorHeaders());
    expect(verifyAt({ body: VECTOR.body, headers, secrets: [VECTOR.secret] }).id).toBe(VECTOR.id);
    const record = {
      'Webhook-Id': VECTOR.id,
      'WEBHOOK-TIMESTAMP': '1614265330',
      'webhook-Signature': VECTOR.signature,
    };
    expect(verifyAt({ body: VECTOR.body, headers: record, secrets: [VECTOR.secret] }).id).toBe(VECTOR.id);
  });

  it('joins repeated webhook-signature header values (Node IncomingHttpHeaders arrays)', () => {
    const headers = { ...vectorHeaders(), 'webhook-signature': ['v1,bm9wZQ==', VECTOR.signature] };
    expect(verifyAt({ body: VECTOR.body, headers, secrets: [VECTOR.secret] }).id).toBe(VECTOR.id);
  });

  it('accepts a Uint8Array body', () => {
    const body = new TextEncoder().encode(VECTOR.body);
    expect(verifyAt({ body, headers: vectorHeaders(), secrets: [VECTOR.secret] }).id).toBe(VECTOR.id);
  });

  it('ignores unknown versions and malformed entries before the matching one', () => {
    const sig = `v2,abc garbage v1,%%% v1,${'A'.repeat(43)}= ${VECTOR.signature}`;
    expect(verifyAt({ body: VECTOR.body, headers: vectorHeaders(sig), secrets: [VECTOR.secret] }).id).toBe(
      VECTOR.id,
    );
  });

  it('accepts when either secret of a rotation matches, and reports which', () => {
    const oldSecret = VECTOR.secret;
    const newSecret = generateSecret();
    const both = signWebhook({ ...VECTOR, secrets: [oldSecret, newSecret] });
    const onlyNew = signWebhook({ ...VECTOR, secrets: [newSecret] });
    // Receiver that knows only the old secret, only the new one, or both.
    expect(
      verifyAt({ body: VECTOR.body, headers: vectorHeaders(both), secrets: [oldSecret] }).secretIndex,
    ).toBe(0);
    expect(
      verifyAt({ body: VECTOR.body, headers: vectorHeaders(both), secrets: [newSecret] }).secretIndex,
    ).toBe(0);
    expect(
      verifyAt({ body: VECTOR.body, headers: vectorHeaders(onlyNew), secrets: [oldSecret, newSecret] })
        .secretIndex,
    ).toBe(1);
    expect(
      reasonOf(() => verifyAt({ body: VECTOR.body, headers: vectorHeaders(onlyNew), secrets: [oldSecret] })),
    ).toBe('no_matching_signature');
  });

  describe('ed25519 (v1a)', () => {
    it('round-trips sign → verify with the public key', () => {
      const { secretKey, publicKey } = generateKeyPair();
      const headers = webhookHeaders({ ...VECTOR, secrets: [secretKey] });
      expect(headers['webhook-signature']).toMatch(/^v1a,/);
      expect(verifyAt({ body: VECTOR.body, headers: { ...headers }, secrets: [publicKey] }).id).toBe(
        VECTOR.id,
      );
    });

    it('accepts a 32-byte seed as whsk_ and gives the same signature as the 64-byte form', () => {
      const { secretKey, publicKey } = generateKeyPair();
      const seed = `whsk_${Buffer.from(secretKey.slice(5), 'base64').subarray(0, 32).toString('base64')}`;
      const long = signWebhook({ ...VECTOR, secrets: [secretKey] });
      const short = signWebhook({ ...VECTOR, secrets: [seed] });
      expect(short).toBe(long); // ed25519 is deterministic
      expect(verifyAt({ body: VECTOR.body, headers: vectorHeaders(short), secrets: [publicKey] }).id).toBe(
        VECTOR.id,
      );
    });

    it('fails with a tampered body, timestamp or id, or another public key', () => {
      const { secretKey, publicKey } = generateKeyPair();
      const sig = signWebhook({ ...VECTOR, secrets: [secretKey] });
      const tamper = (body: string, ts: number, id: string, key = publicKey) =>
        reasonOf(() =>
          verifyAt(
            {
              body,
              headers: { 'webhook-id': id, 'webhook-timestamp': String(ts), 'webhook-signature': sig },
              secrets: [key],
            },
            ts * 1000,
          ),
        );
      expect(tamper(VECTOR.body, VECTOR.timestamp, VECTOR.id)).toBeUndefined();
      expect(tamper(`${VECTOR.body} `, VECTOR.timestamp, VECTOR.id)).toBe('no_matching_signature');
      expect(tamper(VECTOR.body, VECTOR.timestamp + 1, VECTOR.id)).toBe('no_matching_signature');
      expect(tamper(VECTOR.body, VECTOR.timestamp, `${VECTOR.id}x`)).toBe('no_matching_signature');
      expect(tamper(VECTOR.body, VECTOR.timestamp, VECTOR.id, generateKeyPair().publicKey)).toBe(
        'no_matching_signature',
      );
    });

    it('mixes HMAC and ed25519 entries and keys', () => {
      const { secretKey, publicKey } = generateKeyPair();
      const sig = signWebhook({ ...VECTOR, secrets: [secretKey, VECTOR.secret] });
      expect(verifyAt({ body: VECTOR.body, headers: vectorHeaders(sig), secrets: [VECTOR.secret] }).id).toBe(
        VECTOR.id,
      );
      expect(
        verifyAt({ body: VECTOR.body, headers: vectorHeaders(sig), secrets: [generateSecret(), publicKey] })
          .secretIndex,
      ).toBe(1);
    });

    it('does not accept a v1a signature checked against a whsec_ secret, nor v1 against a whpk_ key', () => {
      const { publicKey } = generateKeyPair();
      expect(
        reasonOf(() => verifyAt({ body: VECTOR.body, headers: vectorHeaders(), secrets: [publicKey] })),
      ).toBe('no_matching_signature');
    });
  });

  describe('failure reasons', () => {
    const base = { body: VECTOR.body, secrets: [VECTOR.secret] };

    it.each(['webhook-id', 'webhook-timestamp', 'webhook-signature'])(
      'missing_headers without %s',
      (name) => {
        const headers: Record<string, string> = vectorHeaders();
        delete headers[name];
        expect(reasonOf(() => verifyAt({ ...base, headers }))).toBe('missing_headers');
        expect(reasonOf(() => verifyAt({ ...base, headers: { ...headers, [name]: '' } }))).toBe(
          'missing_headers',
        );
      },
    );

    it.each(['abc', '1614265330.5', '-1614265330', '1e9', '0x10', ''])(
      'invalid_timestamp for %j (empty is missing_headers)',
      (ts) => {
        const headers = { ...vectorHeaders(), 'webhook-timestamp': ts };
        expect(reasonOf(() => verifyAt({ ...base, headers }))).toBe(
          ts === '' ? 'missing_headers' : 'invalid_timestamp',
        );
      },
    );

    it('timestamp_too_old / timestamp_too_new', () => {
      const headers = vectorHeaders();
      expect(reasonOf(() => verifyAt({ ...base, headers }, NOW_MS + 301_000))).toBe('timestamp_too_old');
      expect(reasonOf(() => verifyAt({ ...base, headers }, NOW_MS - 301_000))).toBe('timestamp_too_new');
    });

    it('no_matching_signature for a wrong secret or a tampered body', () => {
      expect(
        reasonOf(() => verifyAt({ ...base, headers: vectorHeaders(), secrets: [generateSecret()] })),
      ).toBe('no_matching_signature');
      expect(
        reasonOf(() => verifyAt({ ...base, body: '{"test": 2432232315}', headers: vectorHeaders() })),
      ).toBe('no_matching_signature');
      expect(reasonOf(() => verifyAt({ ...base, headers: vectorHeaders('v1,') }))).toBe(
        'no_matching_signature',
      );
    });

    it.each([
      ['no secrets', []],
      ['an unprefixed secret', ['MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw']],
      ['a whsk_ secret key', [generateKeyPair().secretKey]],
      ['a short whpk_', ['whpk_AAAA']],
      ['bad base64', ['whsec_@@@@']],
    ])('invalid_secret for %s', (_label, secrets) => {
      expect(reasonOf(() => verifyAt({ ...base, headers: vectorHeaders(), secrets }))).toBe('invalid_secret');
    });

    it('SignatureError is a HooklineError with code signature_invalid and a JSON view', () => {
      let caught: unknown;
      try {
        verifyAt({ ...base, headers: {} });
      } catch (err) {
        caught = err;
      }
      expect(caught).toBeInstanceOf(SignatureError);
      expect(caught).toBeInstanceOf(HooklineError);
      const error = caught as SignatureError;
      expect(error.code).toBe('signature_invalid');
      expect(error.name).toBe('SignatureError');
      expect(error.message).toContain('webhook-id');
      expect(error.toJSON()).toMatchObject({ code: 'signature_invalid', reason: 'missing_headers' });
    });
  });

  describe('tolerance', () => {
    const input = { body: VECTOR.body, headers: vectorHeaders(), secrets: [VECTOR.secret] };

    it.each([
      [300_000, undefined],
      [300_999, undefined], // now is truncated to whole seconds
      [301_000, 'timestamp_too_old'],
      [-300_000, undefined],
      [-301_000, 'timestamp_too_new'],
    ])('default 300 s: now = ts %+d ms → %s', (offset, reason) => {
      expect(reasonOf(() => verifyAt(input, NOW_MS + offset))).toBe(reason);
    });

    it('honours a custom toleranceSec, 0 and Infinity', () => {
      expect(reasonOf(() => verifyAt({ ...input, toleranceSec: 10 }, NOW_MS + 10_000))).toBeUndefined();
      expect(reasonOf(() => verifyAt({ ...input, toleranceSec: 10 }, NOW_MS + 11_000))).toBe(
        'timestamp_too_old',
      );
      expect(reasonOf(() => verifyAt({ ...input, toleranceSec: 0 }, NOW_MS))).toBeUndefined();
      expect(reasonOf(() => verifyAt({ ...input, toleranceSec: 0 }, NOW_MS - 1000))).toBe(
        'timestamp_too_new',
      );
      expect(
        reasonOf(() => verifyAt({ ...input, toleranceSec: Number.POSITIVE_INFINITY }, 0)),
      ).toBeUndefined();
    });

    it('accepts now as a Date and defaults to the clock', () => {
      expect(verifyWebhook({ ...input, now: new Date(NOW_MS) }).id).toBe(VECTOR.id);
      expect(reasonOf(() => verifyWebhook(input))).toBe('timestamp_too_old');
    });

    it.each([-1, Number.NaN])('rejects toleranceSec %s with a ValidationError', (toleranceSec) => {
      expect(() => verifyAt({ ...input, toleranceSec })).toThrow(ValidationError);
    });
  });

  describe('verifyWebhookSafe', () => {
    it('returns ok with the id and timestamp', () => {
      const result = verifyWebhookSafe({
        body: VECTOR.body,
        headers: vectorHeaders(),
        secrets: [VECTOR.secret],
        now: NOW_MS,
      });
      expect(result).toEqual({ ok: true, id: VECTOR.id, timestamp: VECTOR.timestamp, secretIndex: 0 });
    });

    it('returns the SignatureError instead of throwing', () => {
      const result = verifyWebhookSafe({
        body: 'x',
        headers: vectorHeaders(),
        secrets: [VECTOR.secret],
        now: NOW_MS,
      });
      expect(result.ok).toBe(false);
      if (!result.ok) expect(result.error.reason).toBe('no_matching_signature');
    });
  });
});

describe('interoperability with the standardwebhooks reference library', () => {
  it('the reference library verifies our signatures', () => {
    const secret = generateSecret();
    const ts = Math.floor(Date.now() / 1000);
    const body = JSON.stringify({ type: 'order.paid', data: { code: 'ABC12', note: 'ünïcödé ✓' } });
    const headers = webhookHeaders({ id: 'msg_interop', timestamp: ts, body, secrets: [secret] });
    expect(new Webhook(secret).verify(body, { ...headers })).toEqual(JSON.parse(body));
    // With rotation: the reference library checks each entry against its one secret.
    const rotated = webhookHeaders({
      id: 'msg_interop',
      timestamp: ts,
      body,
      secrets: [generateSecret(), secret],
    });
    expect(new Webhook(secret).verify(body, { ...rotated })).toEqual(JSON.parse(body));
  });

  it('we verify the reference library’s signatures', () => {
    const secret = generateSecret();
    const ts = Math.floor(Date.now() / 1000);
    const body = '{"hello":"world"}';
    const signature = new Webhook(secret).sign('msg_ref', new Date(ts * 1000), body);
    const headers = {
      'webhook-id': 'msg_ref',
      'webhook-timestamp': String(ts),
      'webhook-signature': signature,
    };
    expect(verifyWebhook({ body, headers, secrets: [secret] })).toEqual({
      id: 'msg_ref',
      timestamp: ts,
      secretIndex: 0,
    });
  });

  it('property: any id, timestamp and UTF-8 body round-trip both ways', () => {
    const secret = generateSecret();
    const reference = new Webhook(secret);
    fc.assert(
      fc.property(
        fc.string({ minLength: 1, maxLength: 40 }).filter((s) => !/[\s,]/.test(s)),
        fc.integer({ min: 0, max: 4_000_000_000 }),
        fc.string({ unit: 'grapheme', maxLength: 200 }),
        (id, ts, body) => {
          const sig = signWebhook({ id, timestamp: ts, body, secrets: [secret] });
          expect(sig).toBe(reference.sign(id, new Date(ts * 1000), body));
          const headers = { 'webhook-id': id, 'webhook-timestamp': String(ts), 'webhook-signature': sig };
          expect(verifyWebhook({ body, headers, secrets: [secret], now: ts * 1000 }).id).toBe(id);
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('properties', () => {
  const hmac = generateSecret();
  const pair = generateKeyPair();

  it('any byte body signed with any key verifies, and any single-byte change fails', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 1, maxLength: 256 }),
        fc.nat(),
        fc.integer({ min: 1, max: 255 }),
        fc.boolean(),
        (body, where, xor, asymmetric) => {
          const [signKey, verifyKey] = asymmetric ? [pair.secretKey, pair.publicKey] : [hmac, hmac];
          const ts = 1_700_000_000;
          const headers = { ...webhookHeaders({ id: 'msg_p', timestamp: ts, body, secrets: [signKey] }) };
          const input = { headers, secrets: [verifyKey], now: ts * 1000 };
          expect(verifyWebhook({ ...input, body }).id).toBe('msg_p');
          const tampered = Uint8Array.from(body);
          const i = where % tampered.length;
          tampered[i] = (tampered[i] ?? 0) ^ xor;
          expect(reasonOf(() => verifyWebhook({ ...input, body: tampered }))).toBe('no_matching_signature');
        },
      ),
      { numRuns: 150 },
    );
  });

  it('a changed id or timestamp fails', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 50 }), fc.integer({ min: 1, max: 299 }), (body, delta) => {
        const ts = 1_700_000_000;
        const sig = signWebhook({ id: 'msg_a', timestamp: ts, body, secrets: [hmac, pair.secretKey] });
        const secrets = [hmac, pair.publicKey];
        const now = ts * 1000;
        const bad = [
          { 'webhook-id': 'msg_b', 'webhook-timestamp': String(ts), 'webhook-signature': sig },
          { 'webhook-id': 'msg_a', 'webhook-timestamp': String(ts + delta), 'webhook-signature': sig },
        ];
        for (const headers of bad) {
          expect(reasonOf(() => verifyWebhook({ body, headers, secrets, now }))).toBe(
            'no_matching_signature',
          );
        }
      }),
      { numRuns: 100 },
    );
  });
});
