import { afterEach, describe, expect, it, vi } from 'vitest';
import { pretixHandler } from '../../src/http/index.js';
import {
  HooklineError,
  type Logger,
  memoryStore,
  pretixCatalog,
  type Store,
  WebhookRegistry,
} from '../../src/index.js';
import { captureTransport, createFakeClock } from '../../src/testing/index.js';

type Line = { level: keyof Logger; fields: Record<string, unknown>; message: string };

/** A logger that records every line; `next(level)` resolves at the next line of that level. */
function recordingLogger(): Logger & { lines: Line[]; next(level: keyof Logger): Promise<Line> } {
  const lines: Line[] = [];
  const waiters: { level: keyof Logger; resolve: (line: Line) => void }[] = [];
  const at =
    (level: keyof Logger) =>
    (fields: Record<string, unknown>, message: string): void => {
      const line = { level, fields, message };
      lines.push(line);
      for (const waiter of waiters.splice(0)) {
        if (waiter.level === level) waiter.resolve(line);
        else waiters.push(waiter);
      }
    };
  return {
    lines,
    next: (level) => new Promise((resolve) => waiters.push({ level, resolve })),
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
  };
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('the logger option', () => {
  it.each([
    ['a string', 'console'],
    ['an object without warn', { debug() {}, info() {}, error() {} }],
    ['null', null],
  ])('refuses %s with invalid_option', (_name, logger) => {
    const construct = () => new WebhookRegistry({ logger: logger as unknown as Logger });
    expect(construct).toThrow(HooklineError);
    expect(construct).toThrow(/logger/);
    try {
      construct();
    } catch (error) {
      expect((error as HooklineError).code).toBe('invalid_option');
    }
    const registry = new WebhookRegistry();
    expect(() => registry.worker({ logger: logger as unknown as Logger })).toThrow(/logger/);
  });

  it('accepts console, as pino-shaped loggers are', () => {
    expect(() => new WebhookRegistry({ logger: console })).not.toThrow();
  });

  it('writes worker started and stopped at info', async () => {
    const logger = recordingLogger();
    const registry = new WebhookRegistry({ logger, clock: createFakeClock() });
    const worker = registry.worker({ transport: captureTransport(), concurrency: 8 });
    worker.start();
    await worker.stop();
    expect(logger.lines).toEqual([
      {
        level: 'info',
        fields: expect.objectContaining({ concurrency: 8, transport: 'capture' }),
        message: 'hookline: worker started',
      },
      { level: 'info', fields: { graceful: true }, message: 'hookline: worker stopped' },
    ]);
  });

  it("a worker's own logger wins over the registry's", async () => {
    const registryLogger = recordingLogger();
    const workerLogger = recordingLogger();
    const registry = new WebhookRegistry({ logger: registryLogger, clock: createFakeClock() });
    const worker = registry.worker({ transport: captureTransport(), logger: workerLogger });
    worker.start();
    await worker.stop();
    expect(registryLogger.lines).toEqual([]);
    expect(workerLogger.lines.map((l) => l.message)).toEqual([
      'hookline: worker started',
      'hookline: worker stopped',
    ]);
  });

  it('warns once when the store becomes unreachable, and says when it is back', async () => {
    const inner = memoryStore();
    let down = true;
    const store: Store = {
      ...inner,
      async claimDue(input) {
        if (down) throw new Error('connection refused');
        return inner.claimDue(input);
      },
    };
    const logger = recordingLogger();
    const clock = createFakeClock();
    const registry = new WebhookRegistry({ store, clock, logger });
    const worker = registry.worker({ transport: captureTransport(), pollIntervalMs: 1000 });
    const errors: string[] = [];
    let errorSeen: () => void = () => undefined;
    worker.on('error', ({ during }) => {
      errors.push(during);
      errorSeen();
    });
    const nextError = () =>
      new Promise<void>((resolve) => {
        errorSeen = resolve;
      });
    let failed = nextError();
    worker.start();
    await failed;
    failed = nextError();
    clock.advance(2000); // the first backoff: 1000 × 2
    await failed;
    expect(errors).toEqual(['claim', 'claim']);
    const warnings = logger.lines.filter((l) => l.level === 'warn');
    expect(warnings).toEqual([
      {
        level: 'warn',
        fields: { err: expect.any(Error), retryInMs: 2000 },
        message: 'hookline: the store is unreachable; claiming due deliveries failed, retrying with backoff',
      },
    ]);
    // Heard by an 'error' listener: at debug level only.
    expect(logger.lines.filter((l) => l.level === 'debug')).toHaveLength(2);
    expect(logger.lines.filter((l) => l.level === 'error')).toEqual([]);
    down = false;
    clock.advance(4000);
    await worker.drain();
    expect(logger.lines.filter((l) => l.message.includes('reachable again'))).toEqual([
      {
        level: 'info',
        fields: { failedClaims: 2 },
        message: 'hookline: the store is reachable again; claiming resumed',
      },
    ]);
    await worker.stop();
  });

  it('sends errors nobody listens to to logger.error instead of console.error', async () => {
    const consoleError = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const inner = memoryStore();
    const store: Store = {
      ...inner,
      async claimDue() {
        throw new Error('connection refused');
      },
    };
    const logger = recordingLogger();
    const registry = new WebhookRegistry({ store, clock: createFakeClock(), logger });
    const worker = registry.worker({ transport: captureTransport() });
    const logged = logger.next('error');
    worker.start();
    await logged;
    await worker.stop();
    expect(logger.lines.find((l) => l.level === 'error')).toEqual({
      level: 'error',
      fields: { err: expect.any(HooklineError), during: 'claim' },
      message: 'hookline: worker error during claim',
    });
    expect(consoleError).not.toHaveBeenCalled();
  });

  it('without a logger, writes nothing but unheard errors to console.error, as before', async () => {
    const spies = (['debug', 'info', 'warn', 'error', 'log'] as const).map((level) =>
      vi.spyOn(console, level).mockImplementation(() => undefined),
    );
    const registry = new WebhookRegistry({ clock: createFakeClock() });
    const hook = await registry.create('acme', { url: 'https://a.example/hook', eventTypes: ['x'] });
    await registry.emit({ scope: 'acme', type: 'x', data: {} });
    const worker = registry.worker({ transport: captureTransport({ respond: () => 410 }) });
    await worker.drain();
    await worker.stop();
    expect((await registry.get('acme', hook.id)).enabled).toBe(false);
    for (const spy of spies) expect(spy).not.toHaveBeenCalled();
  });

  it('writes a disabled webhook: warn for 410 and failing, info for a manual disable; no credentials', async () => {
    const logger = recordingLogger();
    const registry = new WebhookRegistry({ logger, clock: createFakeClock(), allowUrlCredentials: true });
    const gone = await registry.create('acme', {
      url: 'https://user:secret@a.example/hook',
      eventTypes: ['x'],
    });
    const manual = await registry.create('acme', { url: 'https://b.example/hook', eventTypes: ['y'] });
    await registry.emit({ scope: 'acme', type: 'x', data: {} });
    const worker = registry.worker({ transport: captureTransport({ respond: () => 410 }) });
    await worker.drain();
    await worker.stop();
    await registry.disable('acme', manual.id);
    const disabled = logger.lines.filter((l) => l.message.startsWith('hookline: webhook disabled'));
    expect(disabled).toEqual([
      {
        level: 'warn',
        fields: { scope: 'acme', webhookId: gone.id, url: 'https://a.example/hook', reason: 'gone' },
        message: 'hookline: webhook disabled: its receiver answered 410 Gone',
      },
      {
        level: 'info',
        fields: { scope: 'acme', webhookId: manual.id, url: 'https://b.example/hook', reason: 'manual' },
        message: 'hookline: webhook disabled',
      },
    ]);
    expect(JSON.stringify(logger.lines)).not.toContain('secret');
  });

  it('a throwing logger does not break the worker', async () => {
    const logger: Logger = {
      debug() {
        throw new Error('logger down');
      },
      info() {
        throw new Error('logger down');
      },
      warn() {
        throw new Error('logger down');
      },
      error() {
        throw new Error('logger down');
      },
    };
    const registry = new WebhookRegistry({ logger, clock: createFakeClock() });
    await registry.create('acme', { url: 'https://a.example/hook', eventTypes: ['x'] });
    await registry.emit({ scope: 'acme', type: 'x', data: {} });
    const transport = captureTransport({ respond: () => 410 });
    const worker = registry.worker({ transport });
    await worker.drain();
    await worker.stop();
    expect(transport.requests).toHaveLength(1);
  });

  it("HTTP handlers without onError write unexpected errors to the registry's logger", async () => {
    const consoleError = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const logger = recordingLogger();
    const registry = new WebhookRegistry({ logger, catalog: pretixCatalog });
    const handler = pretixHandler(registry, {
      authorize: () => {
        throw new Error('auth service down');
      },
    });
    const response = await handler(
      new Request('https://example.com/api/v1/organizers/acme/webhooks/?token=abc'),
    );
    expect(response.status).toBe(500);
    expect(logger.lines).toEqual([
      {
        level: 'error',
        fields: { err: expect.any(Error), method: 'GET', path: '/api/v1/organizers/acme/webhooks/' },
        message: 'hookline/http: unexpected error',
      },
    ]);
    expect(consoleError).not.toHaveBeenCalled();
  });
});
