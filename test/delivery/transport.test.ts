import ky from 'ky';
import { describe, expect, it } from 'vitest';
import { pickRawResponseHeaders } from '../../src/delivery/transport/contract.js';
import { kyTransport } from '../../src/delivery/transport/ky.js';
import { nodeTransport } from '../../src/delivery/transport/node.js';
import { undiciTransport } from '../../src/delivery/transport/undici.js';
import { fetchIgnoringDispatcher } from './fetch-ignoring-dispatcher.js';
import { transportConformance } from './transport-conformance.js';

transportConformance('undici', (options) => undiciTransport(options));
transportConformance('ky', (options) => kyTransport(options));
transportConformance('node', (options) => nodeTransport(options));
// A fetch that drops `dispatcher`, as Bun's and Deno's do: kyTransport must notice and send
// through its guarded node:http fetch instead.
transportConformance('ky, fetch ignoring dispatcher', (options) =>
  kyTransport({ ...options, ky: ky.create({ fetch: fetchIgnoringDispatcher }) }),
);

describe('pickRawResponseHeaders', () => {
  const raw = (...pairs: string[]) => pairs.map((p) => Buffer.from(p, 'latin1'));

  it('keeps the safe names in any letter case, lowercased, and drops the rest', () => {
    expect(
      pickRawResponseHeaders(
        raw('Content-TYPE', 'text/plain', 'Set-Cookie', 'a=b', 'DATE', 'Sun', 'X-Powered-By', 'x'),
      ),
    ).toEqual({ 'content-type': 'text/plain', date: 'Sun' });
  });

  it('does not take a name of the same length as a safe one for it', () => {
    // "connection" and "keep-alive" are as long as "request-id"; "content-typf" as "content-type".
    expect(
      pickRawResponseHeaders(raw('Connection', 'keep-alive', 'Keep-Alive', 'timeout=5', 'content-typf', 'x')),
    ).toEqual({});
  });

  it('joins repeats in order, cuts long values, and takes names given as strings', () => {
    expect(
      pickRawResponseHeaders([
        ...raw('x-request-id', 'first'),
        'X-Request-Id',
        'second',
        ...raw('Retry-After', 'y'.repeat(2000)),
      ]),
    ).toEqual({ 'x-request-id': 'first, second', 'retry-after': 'y'.repeat(1024) });
  });

  it('decodes values as latin1 bytes and ignores a trailing name without a value', () => {
    expect(
      pickRawResponseHeaders([
        Buffer.from([0x64, 0x61, 0x74, 0x65]),
        Buffer.from([0xe9]),
        ...raw('location'),
      ]),
    ).toEqual({ date: 'é' });
  });
});
