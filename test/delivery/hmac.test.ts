import { createHmac, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { hmacKey, hmacSha256Base64 } from '../../src/delivery/hmac.js';

const reference = (key: Buffer, prefix: string, body: Uint8Array) =>
  createHmac('sha256', key).update(prefix, 'utf8').update(body).digest('base64');

describe('hmacSha256Base64()', () => {
  it('equals createHmac for keys shorter than, equal to and longer than the block', () => {
    for (const keyBytes of [1, 16, 32, 63, 64, 65, 100, 200]) {
      const key = randomBytes(keyBytes);
      const body = randomBytes(600);
      expect(hmacSha256Base64(hmacKey(key), 'msg_1.1700000000.', body)).toBe(
        reference(key, 'msg_1.1700000000.', body),
      );
    }
  });

  it('equals createHmac for empty, non-ASCII and large inputs, and one after another', () => {
    const key = randomBytes(32);
    const prepared = hmacKey(key);
    const inputs: [string, Uint8Array][] = [
      ['', new Uint8Array(0)],
      ['msg_é.1700000000.', Buffer.from('{"name":"Zoë 🎟"}')],
      ['x'.repeat(5_000), randomBytes(10)],
      ['msg_2.1700000000.', randomBytes(70_000)], // past the scratch buffer: createHmac
      ['msg_3.1700000000.', randomBytes(3)], // a short one after the long ones
    ];
    for (const [prefix, body] of inputs) {
      expect(hmacSha256Base64(prepared, prefix, body)).toBe(reference(key, prefix, body));
    }
  });

  it('equals createHmac when calls alternate between keys', () => {
    const keys = [randomBytes(32), randomBytes(16), randomBytes(100)];
    const prepared = keys.map((key) => hmacKey(key));
    const body = Buffer.from('{"a":1}');
    for (const i of [0, 1, 0, 2, 2, 1, 0]) {
      const key = keys[i] as Buffer;
      expect(hmacSha256Base64(prepared[i] as ReturnType<typeof hmacKey>, 'msg_9.1700000000.', body)).toBe(
        reference(key, 'msg_9.1700000000.', body),
      );
    }
  });
});
