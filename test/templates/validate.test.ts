import { describe, expect, it } from 'vitest';
import {
  DEFAULT_MAX_TEMPLATE_BYTES,
  validateTemplate,
  validateWebhookTemplates,
} from '../../src/templates/index.js';

describe('validateTemplate', () => {
  it('accepts valid templates', () => {
    expect(validateTemplate('{"a":"{{a}}"}', { field: 'bodyTemplate' })).toEqual([]);
    expect(validateTemplate('', { field: 'bodyTemplate' })).toEqual([]);
  });

  it('reports parse errors with line and column', () => {
    const issues = validateTemplate('{\n  "a": "{{a}"\n}', { field: 'bodyTemplate' });
    expect(issues).toEqual([
      {
        path: ['bodyTemplate'],
        code: 'template_invalid',
        message: expect.stringContaining('line 2, column 9'),
      },
    ]);
    expect(validateTemplate('{{#a}}{{/b}}', { field: 'x' })[0]?.code).toBe('template_invalid');
  });

  it('limits the size in UTF-8 bytes, 64 KiB by default, configurable', () => {
    expect(DEFAULT_MAX_TEMPLATE_BYTES).toBe(65536);
    expect(validateTemplate('a'.repeat(65536), { field: 'bodyTemplate' })).toEqual([]);
    expect(validateTemplate('a'.repeat(65537), { field: 'bodyTemplate' })).toEqual([
      {
        path: ['bodyTemplate'],
        code: 'template_too_large',
        message: 'The template is larger than 65536 bytes.',
      },
    ]);
    expect(validateTemplate('é'.repeat(6), { field: 'f', maxBytes: 11 })[0]?.code).toBe('template_too_large');
    expect(validateTemplate('é'.repeat(5), { field: 'f', maxBytes: 11 })).toEqual([]);
  });

  it('checks literal header lines', () => {
    const template = [
      'X-Ok: {{a}}', // 1 fine
      'no colon', // 2 invalid
      'Host: example.org', // 3 forbidden
      'Bad Name: {{x}}', // 4 literal name invalid
      '{{name}}: {{value}}', // 5 dynamic: not checked
      'X-{{suffix}}: v', // 6 dynamic name: not checked
      '  ', // 7 blank
      '{{#auth}}', // 8 tag only
      'Webhook-Signature: {{sig}}', // 9 forbidden
      '{{/auth}}', // 10
      'X-Prefix {{rest}}', // 11 no colon before the first tag: not checked
    ].join('\r\n');
    const issues = validateTemplate(template, { field: 'headerTemplate', kind: 'headers' });
    expect(issues.map((i) => [i.code, i.message.match(/line (\d+)/)?.[1]])).toEqual([
      ['template_invalid', '2'],
      ['header_forbidden', '3'],
      ['template_invalid', '4'],
      ['header_forbidden', '9'],
    ]);
    for (const issue of issues) expect(issue.path).toEqual(['headerTemplate']);
    expect(issues[0]?.message).toBe(
      'Header template line 2, column 1: the line has no "Name: value" form (no colon).',
    );
  });

  it('does not check header lines for body templates', () => {
    expect(validateTemplate('no colon', { field: 'bodyTemplate' })).toEqual([]);
  });

  it('does not treat comment text as header lines', () => {
    expect(
      validateTemplate('{{! a comment\nspanning lines }}\nX-A: 1', { field: 'h', kind: 'headers' }),
    ).toEqual([]);
  });
});

describe('validateWebhookTemplates', () => {
  it('validates both templates with their field names', () => {
    expect(validateWebhookTemplates({ headerTemplate: null, bodyTemplate: null })).toEqual([]);
    expect(validateWebhookTemplates({})).toEqual([]);
    const issues = validateWebhookTemplates({ headerTemplate: 'Host: x', bodyTemplate: '{{#a}}' });
    expect(issues.map((i) => [i.path, i.code])).toEqual([
      [['headerTemplate'], 'header_forbidden'],
      [['bodyTemplate'], 'template_invalid'],
    ]);
    expect(validateWebhookTemplates({ bodyTemplate: 'abc' }, { maxBytes: 2 })[0]?.code).toBe(
      'template_too_large',
    );
  });
});
