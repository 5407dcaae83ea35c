import type { LookupAddress } from 'node:dns';
import { describe, expect, it } from 'vitest';
import {
  checkAddress,
  createSsrfGuard,
  isSsrfGuard,
  SsrfBlockedError,
} from '../../src/delivery/transport/ssrf.js';

/** Hostile addresses: every one must be blocked by the default guard. */
const HOSTILE: readonly string[] = [
  // IPv4
  '0.0.0.0',
  '0.1.2.3',
  '127.0.0.1',
  '127.255.255.254',
  '10.0.0.1',
  '10.255.255.255',
  '172.16.0.1',
  '172.31.255.255',
  '192.168.1.1',
  '169.254.169.254',
  '169.254.0.1',
  '100.64.0.1',
  '100.127.255.254',
  '100.100.100.200',
  '224.0.0.1',
  '239.255.255.250',
  '255.255.255.255',
  '240.0.0.1',
  '192.0.2.1',
  '198.51.100.7',
  '203.0.113.9',
  '198.18.0.1',
  '198.19.255.255',
  '192.0.0.170',
  // IPv6
  '::',
  '::1',
  '[::1]',
  'fe80::1',
  'fe80::1%eth0',
  'fc00::1',
  'fd12:3456:789a::1',
  'ff02::1',
  '2001:db8::1',
  'fd00:ec2::254',
  'fec0::1',
  // IPv4 inside IPv6
  '::ffff:127.0.0.1',
  '::ffff:7f00:1',
  '::ffff:169.254.169.254',
  '::ffff:10.0.0.1',
  '0:0:0:0:0:ffff:c0a8:0101',
  '::127.0.0.1',
  '::10.0.0.1',
  '64:ff9b::127.0.0.1',
  '64:ff9b::a9fe:a9fe',
  '64:ff9b:1::a00:1',
  '2002:7f00:1::',
  '2002:a9fe:a9fe::1',
  '2001:0:4136:e378:8000:63bf:80ff:fffe', // Teredo, client 127.0.0.1
  '::ffff:0:10.0.0.1',
  // not addresses at all
  'localhost',
  '',
];

const PUBLIC: readonly string[] = [
  '8.8.8.8',
  '93.184.215.14',
  '1.1.1.1',
  '100.63.255.255',
  '100.128.0.0',
  '172.32.0.1',
  '2606:4700:4700::1111',
  '::ffff:8.8.8.8',
  '64:ff9b::808:808',
  '2002:808:808::1',
];

describe('checkAddress', () => {
  it(`blocks ${HOSTILE.length} hostile addresses with a reason`, () => {
    expect(HOSTILE.length).toBeGreaterThanOrEqual(40);
    for (const ip of HOSTILE) {
      const verdict = checkAddress(ip);
      expect(verdict.allowed, ip).toBe(false);
      expect(verdict.reason, ip).toMatch(/\S/);
    }
  });

  it('allows public addresses, including public IPv4 inside IPv6', () => {
    for (const ip of PUBLIC) expect(checkAddress(ip), ip).toEqual({ allowed: true });
  });

  it('names the range in the reason', () => {
    expect(checkAddress('127.0.0.1').reason).toBe('127.0.0.1 is a loopback address (127.0.0.0/8)');
    expect(checkAddress('169.254.169.254').reason).toMatch(/cloud metadata/);
    expect(checkAddress('::ffff:10.0.0.1').reason).toMatch(
      /IPv4-mapped .* form of 10\.0\.0\.1, a private \(RFC 1918\)/,
    );
    expect(checkAddress('64:ff9b::a9fe:a9fe').reason).toMatch(/NAT64 .* form of 169\.254\.169\.254/);
    expect(checkAddress('2002:7f00:1::').reason).toMatch(/6to4 .* form of 127\.0\.0\.1/);
    expect(checkAddress('nope').reason).toMatch(/not an IP address/);
  });

  it('opens private ranges with allowPrivateNetworks, but not metadata, multicast or reserved ones', () => {
    const opts = { allowPrivateNetworks: true };
    for (const ip of [
      '127.0.0.1',
      '10.1.2.3',
      '192.168.0.10',
      '100.64.1.1',
      '::1',
      'fd00::1',
      '::ffff:10.0.0.1',
    ]) {
      expect(checkAddress(ip, opts).allowed, ip).toBe(true);
    }
    for (const ip of [
      '169.254.169.254',
      '224.0.0.1',
      '0.0.0.0',
      '255.255.255.255',
      '240.0.0.1',
      '2001:db8::1',
    ]) {
      expect(checkAddress(ip, opts).allowed, ip).toBe(false);
    }
  });

  it('opens exactly the allow-listed CIDRs, for IPv4 inside IPv6 too', () => {
    const opts = { allow: ['10.1.0.0/16', '169.254.169.254', 'fd00:1::/32'] };
    expect(checkAddress('10.1.2.3', opts).allowed).toBe(true);
    expect(checkAddress('::ffff:10.1.2.3', opts).allowed).toBe(true);
    expect(checkAddress('10.2.0.1', opts).allowed).toBe(false);
    expect(checkAddress('169.254.169.254', opts).allowed).toBe(true);
    expect(checkAddress('fd00:1::5', opts).allowed).toBe(true);
    expect(checkAddress('fd00:2::5', opts).allowed).toBe(false);
  });
});

describe('URL parsing normalises exotic IPv4 forms before the guard sees them', () => {
  const guard = createSsrfGuard();
  it.each([
    ['http://2130706433/', '127.0.0.1'],
    ['http://0x7f.1/', '127.0.0.1'],
    ['http://017700000001/', '127.0.0.1'],
    ['http://0x7f000001/', '127.0.0.1'],
    ['http://127.1/', '127.0.0.1'],
    ['http://0251.0376.0251.0376/', '169.254.169.254'],
    ['http://0xa9fea9fe/', '169.254.169.254'],
    ['http://[::ffff:7f00:1]/', '[::ffff:7f00:1]'],
    ['http://[0:0:0:0:0:ffff:127.0.0.1]/', '[::ffff:7f00:1]'],
    ['http://0/', '0.0.0.0'],
  ])('%s → %s, blocked', (url, hostname) => {
    const parsed = new URL(url);
    expect(parsed.hostname).toBe(hostname);
    expect(guard.checkHostname(parsed.hostname).allowed).toBe(false);
  });

  it('leaves names to the connect-time check', () => {
    expect(guard.checkHostname('example.com')).toEqual({ allowed: true });
  });
});

describe('createSsrfGuard: hostnames through a fake resolver', () => {
  const table: Record<string, readonly string[]> = {
    'public.test': ['93.184.215.14'],
    'loopback.test': ['127.0.0.1'],
    'metadata.test': ['169.254.169.254'],
    'private.test': ['10.0.0.8'],
    'ula.test': ['fd00::8'],
    'mapped.test': ['::ffff:192.168.0.1'],
    'nat64.test': ['64:ff9b::7f00:1'],
    'rebind.test': ['93.184.215.14', '127.0.0.1'],
    'rebind6.test': ['2606:4700:4700::1111', '::1'],
    'dual.test': ['93.184.215.14', '2606:4700:4700::1111'],
  };
  const lookup = async (hostname: string): Promise<LookupAddress[]> => {
    const addresses = table[hostname];
    if (!addresses)
      throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
    return addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  };

  it('blocks every name that resolves to a hostile address, rebinding included', async () => {
    const guard = createSsrfGuard({ lookup });
    for (const name of [
      'loopback.test',
      'metadata.test',
      'private.test',
      'ula.test',
      'mapped.test',
      'nat64.test',
      'rebind.test',
      'rebind6.test',
    ]) {
      const err = await guard.resolve(name).then(
        () => null,
        (e: unknown) => e,
      );
      expect(err, name).toBeInstanceOf(SsrfBlockedError);
      expect((err as SsrfBlockedError).code).toBe('ssrf_blocked');
      expect((err as SsrfBlockedError).hostname).toBe(name);
      expect((err as SsrfBlockedError).message).toMatch(
        new RegExp(`Refused to connect to ${name.replace('.', '\\.')}`),
      );
    }
  });

  it('lets public names through with every address', async () => {
    const guard = createSsrfGuard({ lookup });
    expect((await guard.resolve('dual.test')).map((a) => a.address)).toEqual([
      '93.184.215.14',
      '2606:4700:4700::1111',
    ]);
  });

  it('opens allow-listed hostnames (exact and *.suffix) and CIDRs', async () => {
    const byName = createSsrfGuard({ lookup, allow: ['Loopback.Test.', '*.test'] });
    expect(await byName.resolve('loopback.test')).toEqual([{ address: '127.0.0.1', family: 4 }]);
    expect(await byName.resolve('rebind.test')).toHaveLength(2);
    const byCidr = createSsrfGuard({ lookup, allow: ['10.0.0.0/24'] });
    expect(await byCidr.resolve('private.test')).toHaveLength(1);
    await expect(byCidr.resolve('loopback.test')).rejects.toBeInstanceOf(SsrfBlockedError);
  });

  it('checks IP literals given as hostnames without resolving them', async () => {
    const guard = createSsrfGuard({ lookup: () => Promise.reject(new Error('must not resolve')) });
    await expect(guard.resolve('127.0.0.1')).rejects.toBeInstanceOf(SsrfBlockedError);
    await expect(guard.resolve('[::1]')).rejects.toBeInstanceOf(SsrfBlockedError);
    expect(await guard.resolve('8.8.8.8')).toEqual([{ address: '8.8.8.8', family: 4 }]);
  });

  it('implements the dns.lookup callback contract (single, all, family)', async () => {
    const guard = createSsrfGuard({ lookup });
    const call = (name: string, options: { all?: boolean; family?: number }) =>
      new Promise<{ err: NodeJS.ErrnoException | null; address: unknown; family: number | undefined }>(
        (resolve) => guard.lookup(name, options, (err, address, family) => resolve({ err, address, family })),
      );
    expect(await call('dual.test', {})).toMatchObject({ err: null, address: '93.184.215.14', family: 4 });
    expect(await call('dual.test', { family: 6 })).toMatchObject({
      address: '2606:4700:4700::1111',
      family: 6,
    });
    expect((await call('dual.test', { all: true })).address).toHaveLength(2);
    expect((await call('loopback.test', {})).err).toBeInstanceOf(SsrfBlockedError);
    expect((await call('missing.test', {})).err?.code).toBe('ENOTFOUND');
  });

  it('refuses IP-literal hosts in the undici connector before connecting', async () => {
    const connect = createSsrfGuard().connector();
    const err = await new Promise<Error | null>((resolve) =>
      connect({ hostname: '169.254.169.254', protocol: 'http:', port: '80' }, (...args) => resolve(args[0])),
    );
    expect(err).toBeInstanceOf(SsrfBlockedError);
    expect(err?.message).toMatch(/cloud metadata/);
  });
});

describe('isSsrfGuard', () => {
  it('tells a guard from guard options', () => {
    expect(isSsrfGuard(createSsrfGuard())).toBe(true);
    expect(isSsrfGuard(undefined)).toBe(false);
    expect(isSsrfGuard({})).toBe(false);
    expect(isSsrfGuard({ allow: ['10.0.0.0/8'], lookup: async () => [] })).toBe(false);
  });
});
