import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TemplateError } from '../../src/errors.js';
import { renderHeaders, renderTemplate } from '../../src/templates/index.js';

const anyString = fc.string({ unit: 'binary', maxLength: 200 });
const jsonValue = fc.jsonValue({ maxDepth: 3 });

describe('properties', () => {
  it('json mode always yields valid JSON for any string value, with the value intact', () => {
    fc.assert(
      fc.property(anyString, anyString, (reason, name) => {
        const body = renderTemplate(
          '{"reason":"{{reason}}","n":"x{{name}}y","missing":"{{nope}}"}',
          { reason, name },
          {
            escape: 'json',
          },
        );
        const parsed = JSON.parse(body) as Record<string, string>;
        expect(parsed.reason).toBe(reason);
        expect(parsed.n).toBe(`x${name}y`);
      }),
      { numRuns: 500 },
    );
  });

  it('json mode yields valid JSON for any JSON value printed into a string', () => {
    fc.assert(
      fc.property(jsonValue, (value) => {
        const body = renderTemplate('["{{v}}"]', { v: value }, { escape: 'json' });
        expect(() => JSON.parse(body)).not.toThrow();
      }),
      { numRuns: 300 },
    );
  });

  it('html mode escapes exactly & < > " and never leaves one unescaped', () => {
    fc.assert(
      fc.property(anyString, (s) => {
        const out = renderTemplate('{{s}}', { s });
        expect(out.replace(/&(amp|lt|gt|quot);/g, '')).not.toMatch(/[<>"]|&/);
        expect(
          out
            .replaceAll('&lt;', '<')
            .replaceAll('&gt;', '>')
            .replaceAll('&quot;', '"')
            .replaceAll('&amp;', '&'),
        ).toBe(s);
      }),
      { numRuns: 300 },
    );
  });

  it('no header value or name ever contains CR, LF or NUL: it renders safely or throws TemplateError', () => {
    const templates = [
      'X-A: {{v}}',
      'X-A: {{{v}}}',
      'X-A: {{&v}}\nX-B: {{{w}}}',
      '{{{v}}}: {{{w}}}',
      'X-{{{v}}}: 1',
      '{{#list}}X-Item: {{{.}}}\n{{/list}}',
    ];
    fc.assert(
      fc.property(
        fc.constantFrom(...templates),
        anyString,
        anyString,
        fc.array(anyString, { maxLength: 3 }),
        fc.constantFrom<'html' | 'json'>('html', 'json'),
        (template, v, w, list, mode) => {
          let headers: Record<string, string>;
          try {
            headers = renderHeaders(template, { v, w, list }, { escape: mode });
          } catch (err) {
            expect(err).toBeInstanceOf(TemplateError);
            return;
          }
          for (const [name, value] of Object.entries(headers)) {
            expect(name).toMatch(/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/);
            expect(/[\r\n]/.test(value) || value.includes('\u0000')).toBe(false);
          }
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('header injection attempts with line breaks always throw', () => {
    fc.assert(
      fc.property(anyString, fc.constantFrom('\r', '\n', '\r\n', '\u0000'), anyString, (a, brk, b) => {
        expect(() => renderHeaders('X-A: {{{v}}}', { v: `${a}${brk}${b}` })).toThrow(TemplateError);
      }),
      { numRuns: 300 },
    );
  });
});
