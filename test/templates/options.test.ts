/** Template functions: an unknown option value is a HooklineError invalid_option, not a silent default. */
import { describe, expect, it } from 'vitest';
import {
  defaultPayload,
  renderHeaders,
  renderRequest,
  renderTemplate,
  validateTemplate,
  validateWebhookTemplates,
} from '../../src/templates/index.js';
import { thrownBy } from '../helpers/errors.js';

const WEBHOOK = {
  url: 'https://receiver.example/h',
  method: 'POST' as const,
  headerTemplate: null,
  bodyTemplate: '{{a}}',
  templateEscape: null,
};
const NOTIFICATION = { scope: 'acme', type: 'x', data: { a: '<b>' } };

describe('templates: invalid_option', () => {
  it('renderTemplate and renderHeaders refuse an unknown escape', () => {
    const error = thrownBy(() => renderTemplate('{{a}}', {}, { escape: 'xml' as never }));
    expect(error.code).toBe('invalid_option');
    expect(error.message).toBe(
      `renderTemplate(): option "escape" must be 'html' or 'json'; got string "xml".`,
    );
    expect(thrownBy(() => renderHeaders('X-A: 1', {}, { escape: 'JSON' as never })).code).toBe(
      'invalid_option',
    );
  });

  it.each([
    ['notificationId', { notificationId: 7 }],
    ['payloadStyle', { notificationId: 'n', payloadStyle: 'standard' }],
    ['defaultEscape', { notificationId: 'n', defaultEscape: 'none' }],
    ['maxTemplateBytes', { notificationId: 'n', maxTemplateBytes: 0 }],
    ['now', { notificationId: 'n', now: '2026-01-01' }],
  ])('renderRequest: option %s', (option, options) => {
    const error = thrownBy(() => renderRequest(WEBHOOK, NOTIFICATION, options as never));
    expect(error.code).toBe('invalid_option');
    expect(error.message).toContain(`renderRequest(): option "${option}" must be`);
  });

  it('a webhook whose stored templateEscape is unknown is refused too', () => {
    const error = thrownBy(() =>
      renderRequest({ ...WEBHOOK, templateEscape: 'none' as never }, NOTIFICATION, { notificationId: 'n' }),
    );
    expect(error.code).toBe('invalid_option');
  });

  it('defaultPayload checks style and notificationId', () => {
    expect(
      thrownBy(() => defaultPayload(NOTIFICATION, { notificationId: 'n', style: 'x' as never })).code,
    ).toBe('invalid_option');
    expect(thrownBy(() => defaultPayload(NOTIFICATION, {} as never)).code).toBe('invalid_option');
  });

  it('validateTemplate checks field, maxBytes and kind; validateWebhookTemplates maxBytes', () => {
    expect(thrownBy(() => validateTemplate('x', {} as never)).message).toContain('option "field"');
    expect(thrownBy(() => validateTemplate('x', { field: 'b', maxBytes: -1 })).message).toContain(
      'option "maxBytes"',
    );
    expect(thrownBy(() => validateTemplate('x', { field: 'b', kind: 'header' as never })).message).toContain(
      'option "kind"',
    );
    expect(thrownBy(() => validateWebhookTemplates({ bodyTemplate: 'x' }, { maxBytes: 0 })).code).toBe(
      'invalid_option',
    );
  });

  it('valid options render as before', () => {
    expect(renderTemplate('{{a}}', { a: '<b>' }, { escape: 'html' })).toBe('&lt;b&gt;');
    expect(renderRequest(WEBHOOK, NOTIFICATION, { notificationId: 'n', defaultEscape: 'json' }).body).toBe(
      '<b>',
    );
  });
});
