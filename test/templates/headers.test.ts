import { describe, expect, it } from 'vitest';
import { TemplateError } from '../../src/errors.js';
import { FORBIDDEN_HEADER_NAMES, parseHeaderLines, renderHeaders } from '../../src/templates/index.js';

function renderError(template: string, data: unknown = {}): TemplateError {
  try {
    renderHeaders(template, data);
  } catch (err) {
    expect(err).toBeInstanceOf(TemplateError);
    return err as TemplateError;
  }
  throw new Error('expected a TemplateError');
}

describe('renderHeaders', () => {
  it('renders the Taler example', () => {
    expect(renderHeaders('X-Taler-Order: {{order_id}}', { order_id: '2025.123-01ABC' })).toEqual({
      'X-Taler-Order': '2025.123-01ABC',
    });
  });

  it('renders a two-line template, LF or CRLF, ignoring blank lines and trimming', () => {
    const data = { order_id: '2024.001-XYZ', token: 'secret' };
    const expected = { 'X-Order': '2024.001-XYZ', Authorization: 'Bearer secret' };
    expect(renderHeaders('X-Order: {{order_id}}\nAuthorization: Bearer {{token}}', data)).toEqual(expected);
    expect(
      renderHeaders('\r\n  X-Order:{{order_id}}  \r\n\r\n\tAuthorization :  Bearer {{token}}\t\r\n', data),
    ).toEqual(expected);
  });

  it('supports sections that span lines', () => {
    const template = 'X-A: 1\n{{#token}}\nAuthorization: Bearer {{token}}\n{{/token}}\nX-B: 2';
    expect(renderHeaders(template, { token: 't' })).toEqual({
      'X-A': '1',
      Authorization: 'Bearer t',
      'X-B': '2',
    });
    expect(renderHeaders(template, {})).toEqual({ 'X-A': '1', 'X-B': '2' });
  });

  it('escapes values like body templates (html by default, json on request)', () => {
    expect(renderHeaders('X-A: {{v}}', { v: 'a&"b' })).toEqual({ 'X-A': 'a&amp;&quot;b' });
    expect(renderHeaders('X-A: {{{v}}}', { v: 'a&"b' })).toEqual({ 'X-A': 'a&"b' });
    expect(renderHeaders('X-A: {{v}}', { v: 'a"b' }, { escape: 'json' })).toEqual({ 'X-A': 'a\\"b' });
  });

  it('allows a name produced by a tag when it is valid', () => {
    expect(renderHeaders('{{name}}: {{value}}', { name: 'X-Dynamic', value: 'v' })).toEqual({
      'X-Dynamic': 'v',
    });
    expect(renderError('{{name}}: v', { name: 'Host' }).code).toBe('template_render_failed');
  });

  it('rejects values with CR, LF or NUL, escaped or raw, so no header can be injected', () => {
    for (const v of ['a\r\nHost: evil', 'a\nX-Injected: 1', 'a\rb', 'a\u0000b']) {
      for (const template of ['X-A: {{v}}', 'X-A: {{{v}}}', 'X-A: {{&v}}']) {
        const err = renderError(template, { v });
        expect(err.code).toBe('template_render_failed');
        expect(err.message).toContain('"v"');
      }
    }
  });

  it('prints an object with a newline inside as one-line JSON', () => {
    expect(renderHeaders('X-A: {{{o}}}', { o: { s: 'a\nb' } })).toEqual({ 'X-A': '{"s":"a\\nb"}' });
  });

  it('accepts an escaped newline in json mode (it is no longer a line break)', () => {
    expect(renderHeaders('X-A: {{v}}', { v: 'a\nb' }, { escape: 'json' })).toEqual({ 'X-A': 'a\\nb' });
  });

  it('rejects lines without a colon and invalid names', () => {
    expect(renderError('X-A: 1\nno colon here').message).toMatch(/line 2 has no "Name: value" form/);
    expect(renderError('X A: 1').code).toBe('template_render_failed');
    expect(renderError(': value').code).toBe('template_render_failed');
    expect(renderError('X-Ä: 1').code).toBe('template_render_failed');
  });

  it('rejects control characters in literal values', () => {
    expect(renderError('X-A: a\u0001b').code).toBe('template_render_failed');
    expect(renderError('X-A: a\rb').code).toBe('template_render_failed');
    expect(renderHeaders('X-A: a\tb', {})).toEqual({ 'X-A': 'a\tb' });
  });

  it('refuses every forbidden header, in any case', () => {
    expect(FORBIDDEN_HEADER_NAMES).toEqual(
      expect.arrayContaining([
        'host',
        'content-length',
        'transfer-encoding',
        'webhook-signature',
        'te',
        'expect',
      ]),
    );
    for (const name of FORBIDDEN_HEADER_NAMES) {
      for (const spelled of [name, name.toUpperCase()]) {
        const err = renderError(`${spelled}: x`);
        expect(err.code).toBe('template_render_failed');
        expect(err.message).toContain('may not set');
      }
    }
  });

  it('combines duplicate names in order with ", ", keeping the first spelling', () => {
    expect(renderHeaders('Accept: a\naccept: b\nACCEPT: c', {})).toEqual({ Accept: 'a, b, c' });
  });

  it('lets the last Content-Type win', () => {
    expect(renderHeaders('Content-Type: text/plain\ncontent-type: application/json', {})).toEqual({
      'Content-Type': 'application/json',
    });
  });

  it('keeps an empty value and a value with colons', () => {
    expect(renderHeaders('X-Empty:\nX-Url: https://a.example:8080/x', {})).toEqual({
      'X-Empty': '',
      'X-Url': 'https://a.example:8080/x',
    });
  });

  it('renders an empty template to no headers', () => {
    expect(renderHeaders('', {})).toEqual({});
    expect(renderHeaders('\n\n', {})).toEqual({});
  });

  it('handles a __proto__ header name as a plain key', () => {
    const headers = parseHeaderLines('__proto__: x');
    expect(Object.keys(headers)).toEqual(['__proto__']);
    expect(Object.getPrototypeOf(headers)).toBe(Object.prototype);
  });
});
