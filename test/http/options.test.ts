/** Bad options of the HTTP layer are HooklineError invalid_option naming the option. */
import { describe, expect, it } from 'vitest';
import {
  combineHandlers,
  type FetchHandler,
  pretixHandler,
  pretixOpenApi,
  talerHandler,
  talerOpenApi,
  toNodeHandler,
} from '../../src/http/index.js';
import { WebhookRegistry } from '../../src/index.js';
import { thrownBy } from '../helpers/errors.js';
import { authorize } from './helpers.js';

const registry = new WebhookRegistry();
type AnyOptions = Record<string, unknown>;
const pretix = (options: AnyOptions) => () => pretixHandler(registry, options as never);
const taler = (options: AnyOptions) => () => talerHandler(registry, options as never);

describe('http options: invalid_option', () => {
  it.each([
    ['pretixHandler', pretix],
    ['talerHandler', taler],
  ] as const)('%s without authorize names the option and what it must be', (name, build) => {
    const error = thrownBy(build({}));
    expect(error.code).toBe('invalid_option');
    expect(error.message).toBe(
      `${name}(): option "authorize" must be a function ({ request, scope, permission }) => true | false | 'unauthenticated' | 'invalid_token' (it is required); got nothing (the option is missing).`,
    );
  });

  it.each([
    ['options', undefined],
    ['authorize', { authorize: 'yes' }],
    ['scopeExists', { authorize, scopeExists: true }],
    ['maxBodyBytes', { authorize, maxBodyBytes: -1 }],
    ['maxBodyBytes', { authorize, maxBodyBytes: 1.5 }],
    ['maxBodyBytes', { authorize, maxBodyBytes: '1mb' }],
    ['onError', { authorize, onError: 'log' }],
    ['openApiPath', { authorize, openApiPath: 'openapi.json' }],
    ['basePath', { authorize, basePath: 42 }],
  ])('both dialects: option %s', (option, options) => {
    for (const build of [pretix, taler]) {
      const error = thrownBy(build(options as AnyOptions));
      expect(error.code).toBe('invalid_option');
      expect(error.message).toContain(`option "${option}" must be`);
    }
  });

  it('pretix: readWriteSplit must be a boolean', () => {
    const error = thrownBy(pretix({ authorize, readWriteSplit: 'yes' }));
    expect(error.message).toBe(
      'pretixHandler(): option "readWriteSplit" must be `true` or `false`; got string "yes".',
    );
  });

  it('Taler: defaultScope must be a scope name', () => {
    for (const defaultScope of ['', 'a\u0000b', 7, 'x'.repeat(201)]) {
      const error = thrownBy(taler({ authorize, defaultScope }));
      expect(error.code).toBe('invalid_option');
      expect(error.message).toContain('option "defaultScope" must be a scope name');
    }
  });

  it('valid options still build handlers', () => {
    expect(typeof pretixHandler(registry, { authorize, maxBodyBytes: 0, readWriteSplit: true })).toBe(
      'function',
    );
    expect(
      typeof talerHandler(registry, { authorize, defaultScope: 'shop', openApiPath: '/openapi.json' }),
    ).toBe('function');
  });

  it('combineHandlers needs at least one function', () => {
    expect(thrownBy(() => combineHandlers()).message).toBe(
      'combineHandlers(): option "handlers" must be at least one Fetch handler; got nothing (the option is missing).',
    );
    const error = thrownBy(() => combineHandlers(pretixHandler(registry, { authorize }), {} as FetchHandler));
    expect(error.code).toBe('invalid_option');
    expect(error.message).toContain(
      'option "handlers[1]" must be a Fetch handler (a function); got an object.',
    );
  });

  it('toNodeHandler checks the handler and maxBodyBytes', () => {
    expect(thrownBy(() => toNodeHandler('nope' as unknown as FetchHandler)).code).toBe('invalid_option');
    const handler = pretixHandler(registry, { authorize });
    const error = thrownBy(() => toNodeHandler(handler, { maxBodyBytes: Number.NaN }));
    expect(error.message).toBe(
      'toNodeHandler(): option "maxBodyBytes" must be a non-negative integer (bytes); got number NaN.',
    );
  });

  it('the OpenAPI builders check their options', () => {
    expect(thrownBy(() => pretixOpenApi({ basePath: 1 } as never)).code).toBe('invalid_option');
    expect(thrownBy(() => talerOpenApi({ defaultScope: false } as never)).code).toBe('invalid_option');
  });
});
