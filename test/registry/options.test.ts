/** WebhookRegistry constructor options: a mistake is a HooklineError invalid_option at once. */
import { describe, expect, it } from 'vitest';
import { memoryStore, retryPolicies, WebhookRegistry, type WebhookRegistryOptions } from '../../src/index.js';
import { pretixCatalog } from '../../src/matching/index.js';
import { thrownBy } from '../helpers/errors.js';

/** The HooklineError `new WebhookRegistry(options)` throws. */
const optionError = (options: unknown) =>
  thrownBy(() => new WebhookRegistry(options as WebhookRegistryOptions));

describe('new WebhookRegistry(): invalid_option', () => {
  it.each([
    ['options', null],
    ['store', { store: {} }],
    ['store', { store: 'postgres://localhost' }],
    ['catalog', { catalog: ['pretix.event.order.paid'] }],
    ['eventExists', { eventExists: true }],
    ['allowUrlCredentials', { allowUrlCredentials: 'yes' }],
    ['maxTemplateBytes', { maxTemplateBytes: 0 }],
    ['maxTemplateBytes', { maxTemplateBytes: '64k' }],
    ['maxNotificationBytes', { maxNotificationBytes: -5 }],
    ['maxNotificationBytes', { maxNotificationBytes: Number.POSITIVE_INFINITY }],
    ['payloadStyle', { payloadStyle: 'standard' }],
    ['templateEscape', { templateEscape: 'HTML' }],
    ['retryPolicy', { retryPolicy: 'pretix' }],
    ['retryPolicy', { retryPolicy: { name: 'x' } }],
    ['clock', { clock: Date }],
  ])('option %s: %j', (option, options) => {
    const error = optionError(options);
    expect(error.code).toBe('invalid_option');
    expect(error.message).toMatch(new RegExp(`^new WebhookRegistry\\(\\): option "${option}" must be `));
  });

  it('a store missing methods is named with what is missing', () => {
    const { enqueue: _enqueue, ...partial } = memoryStore();
    expect(optionError({ store: partial }).message).toContain('this one has no enqueue');
  });

  it('good options build a registry', () => {
    const registry = new WebhookRegistry({
      store: memoryStore(),
      catalog: pretixCatalog,
      eventExists: () => true,
      allowUrlCredentials: true,
      maxTemplateBytes: 1024,
      maxNotificationBytes: 2048,
      payloadStyle: 'pretix',
      templateEscape: 'json',
      retryPolicy: () => retryPolicies.standard,
      clock: { now: () => 0, setTimeout: () => 0, clearTimeout: () => {} },
    });
    expect(registry.catalog).toBe(pretixCatalog);
    expect(new WebhookRegistry({ retryPolicy: retryPolicies.pretix })).toBeInstanceOf(WebhookRegistry);
  });
});
