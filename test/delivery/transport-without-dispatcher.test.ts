/**
 * Bun's case on Node: the loaded undici has no dispatcher API (Bun replaces `undici` with a shim
 * whose Agent has no dispatch or close). The runtime check is mocked to say so; everything else
 * is real.
 */
import { describe, expect, it, vi } from 'vitest';
import { defaultTransport } from '../../src/delivery/transport/default.js';
import { kyTransport } from '../../src/delivery/transport/ky.js';
import { createGuardedAgent, undiciTransport } from '../../src/delivery/transport/undici.js';
import { thrownBy } from '../helpers/errors.js';
import { transportConformance } from './transport-conformance.js';

vi.mock('../../src/delivery/transport/runtime.js', async (importOriginal) => ({
  ...(await importOriginal<typeof import('../../src/delivery/transport/runtime.js')>()),
  undiciDispatcherSupported: () => false,
}));

describe('where undici has no dispatcher API (Bun)', () => {
  it('the default transport is the node:http one', async () => {
    const transport = defaultTransport();
    expect(transport.name).toBe('node');
    await transport.close();
  });

  it('undiciTransport() and createGuardedAgent() refuse with transport_unsupported instead of guarding nothing', () => {
    for (const make of [() => undiciTransport(), () => createGuardedAgent()]) {
      const error = thrownBy(make);
      expect(error.code).toBe('transport_unsupported');
      expect(error.message).toMatch(/no dispatcher API.*nodeTransport\(\)/);
    }
  });

  it('kyTransport() has no agent, and close() does not throw', async () => {
    const transport = kyTransport();
    expect(transport.dispatcher).toBeUndefined();
    await transport.close();
    await transport.close();
  });
});

transportConformance('ky without a dispatcher API (guarded node:http fetch)', (options) =>
  kyTransport(options),
);
transportConformance('defaultTransport without a dispatcher API', (options) => defaultTransport(options));
