import Mustache from 'mustache';
import { describe, expect, it } from 'vitest';
import { TemplateError } from '../../src/errors.js';
import {
  clearTemplateCache,
  escapeHtml,
  escapeJson,
  renderTemplate,
  TEMPLATE_CACHE_MAX_ENTRIES,
  templateCacheSize,
} from '../../src/templates/index.js';

function parseError(template: string): TemplateError {
  try {
    renderTemplate(template, {});
  } catch (err) {
    expect(err).toBeInstanceOf(TemplateError);
    return err as TemplateError;
  }
  throw new Error('expected a TemplateError');
}

describe('renderTemplate: Taler (mustach) compatibility', () => {
  it('interpolates a variable', () => {
    expect(renderTemplate('{{order_id}}', { order_id: '2024.001-XYZ' })).toBe('2024.001-XYZ');
  });

  it('escapes exactly & < > " in {{x}} and nothing else', () => {
    const s = 'Tom & "Jerry" <cheese>';
    expect(renderTemplate('{{s}}', { s })).toBe('Tom &amp; &quot;Jerry&quot; &lt;cheese&gt;');
    expect(renderTemplate('{{s}}', { s: "it's a \\ back\nslash / = `" })).toBe("it's a \\ back\nslash / = `");
  });

  it('inserts raw text with {{{x}}} and {{&x}}', () => {
    const s = 'Tom & "Jerry" <cheese>';
    expect(renderTemplate('{{{s}}}', { s })).toBe(s);
    expect(renderTemplate('{{&s}}', { s })).toBe(s);
    expect(renderTemplate('{{& s }}|{{{ s }}}', { s })).toBe(`${s}|${s}`);
  });

  it('renders a missing variable as empty text', () => {
    expect(renderTemplate('[{{missing}}][{{{missing}}}][{{a.b.c}}]', {})).toBe('[][][]');
  });

  it('prints objects and arrays as compact JSON, escaped or raw', () => {
    expect(renderTemplate('{{obj}}', { obj: { x: 1 } })).toBe('{&quot;x&quot;:1}');
    expect(renderTemplate('{{{obj}}}', { obj: { x: 1 } })).toBe('{"x":1}');
    expect(renderTemplate('{{{arr}}}', { arr: [1, 2] })).toBe('[1,2]');
    expect(renderTemplate('{{{a}}}', { a: { s: 'x', n: [true, null] } })).toBe('{"s":"x","n":[true,null]}');
  });

  it('prints numbers and booleans as JSON text, null as empty', () => {
    expect(
      renderTemplate('{{n}}|{{f}}|{{t}}|{{b}}|{{z}}|{{nil}}|', {
        n: 5,
        f: 1.5,
        t: true,
        b: false,
        z: 0,
        nil: null,
      }),
    ).toBe('5|1.5|true|false|0||');
  });

  it('inserts strings without quotes', () => {
    expect(renderTemplate('"{{s}}"', { s: 'KUDOS:5' })).toBe('"KUDOS:5"');
  });

  it('iterates sections over arrays with {{.}}', () => {
    expect(renderTemplate('{{#arr}}<{{.}}>{{/arr}}', { arr: [1, 2] })).toBe('<1><2>');
    expect(
      renderTemplate('{{#items}}{{name}}={{qty}};{{/items}}', {
        items: [
          { name: 'a', qty: 1 },
          { name: 'b', qty: 2 },
        ],
      }),
    ).toBe('a=1;b=2;');
  });

  it('renders inverted sections for missing and falsy values', () => {
    expect(renderTemplate('{{^missing}}none{{/missing}}', {})).toBe('none');
    for (const v of [null, false, 0, '', [], {}]) {
      expect(renderTemplate('{{^v}}none{{/v}}{{#v}}some{{/v}}', { v })).toBe('none');
    }
    for (const v of [true, 1, 'x', [0], { a: 1 }]) {
      expect(renderTemplate('{{^v}}none{{/v}}{{#v}}some{{/v}}', { v })).toBe('some');
    }
  });

  it('renders a section over an object with the object as context', () => {
    expect(renderTemplate('{{obj}}/{{#obj}}{{x}}-{{y}}{{/obj}}', { obj: { x: 1 }, y: 'outer' })).toBe(
      '{&quot;x&quot;:1}/1-outer',
    );
  });

  it('resolves dotted paths, including nested ones', () => {
    const data = {
      contract_terms: { amount: 'KUDOS:5', merchant: { address: { town: 'Bern' } } },
      list: ['a', 'b'],
    };
    expect(renderTemplate('{{contract_terms.amount}} {{contract_terms.merchant.address.town}}', data)).toBe(
      'KUDOS:5 Bern',
    );
    expect(renderTemplate('{{list.1}}', data)).toBe('b');
    expect(renderTemplate('{{contract_terms.nope.town}}', data)).toBe('');
  });

  it('supports comments, delimiter changes and spaces inside tags', () => {
    expect(renderTemplate('a{{! a comment }}b', {})).toBe('ab');
    expect(renderTemplate('{{=<% %>=}}<% x %>{{x}}<%={{ }}=%>{{ x }}', { x: 1 })).toBe('1{{x}}1');
    expect(renderTemplate('{{  x  }}|{{# s }}y{{/ s }}', { x: 'v', s: true })).toBe('v|y');
  });

  it('removes standalone section lines like mustache', () => {
    expect(renderTemplate('a\n{{#s}}\nb\n{{/s}}\nc', { s: true })).toBe('a\nb\nc');
  });

  it('only looks up own properties', () => {
    expect(
      renderTemplate('[{{constructor}}][{{__proto__}}][{{toString}}][{{arr.length}}]', { arr: [1] }),
    ).toBe('[][][][]');
  });

  it('renders partials as empty text (Taler has none)', () => {
    expect(renderTemplate('a{{>p}}b', { p: 'x' })).toBe('ab');
  });

  it('renders Dates as ISO text', () => {
    expect(renderTemplate('{{d}}', { d: new Date('2025-01-02T03:04:05Z') })).toBe('2025-01-02T03:04:05.000Z');
  });

  it('fails to render cyclic objects with template_render_failed', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => renderTemplate('{{{c}}}', { c: cyclic })).toThrow(
      expect.objectContaining({ code: 'template_render_failed' }),
    );
  });

  it('does not change or depend on the global Mustache settings', () => {
    const savedEscape = Mustache.escape;
    const savedTags = Mustache.tags;
    try {
      Mustache.escape = (s: string) => `!${s}!`;
      Mustache.tags = ['<%', '%>'];
      expect(renderTemplate('{{a}}', { a: '<' })).toBe('&lt;');
    } finally {
      Mustache.escape = savedEscape;
      Mustache.tags = savedTags;
    }
    expect(Mustache.render('{{a}}', { a: "'" })).toBe('&#39;');
  });
});

describe('renderTemplate: parse errors', () => {
  it('reports an unterminated tag with its position', () => {
    const err = parseError('line one\n  hello {{name');
    expect(err.code).toBe('template_invalid');
    expect(err.position).toEqual({ offset: 17, line: 2, column: 9 });
    expect(err.message).toContain('line 2, column 9');
  });

  it('reports a mismatched closing tag at the closing tag', () => {
    const err = parseError('{{#a}}\nx{{/b}}');
    expect(err.code).toBe('template_invalid');
    expect(err.position).toEqual({ offset: 8, line: 2, column: 2 });
    expect(err.message).toMatch(/"b" does not match the open section "a"/);
  });

  it('reports an unclosed section at its opening tag', () => {
    const err = parseError('ok\nok {{#a}} never closed');
    expect(err.position).toEqual({ offset: 6, line: 2, column: 4 });
    expect(err.message).toMatch(/section "a" is never closed/);
  });

  it('reports a closing tag without a section', () => {
    expect(parseError('x {{/a}}').position).toEqual({ offset: 2, line: 1, column: 3 });
  });

  it('reports an unterminated triple mustache and a bad delimiter change', () => {
    expect(parseError('{{{a}}').position?.offset).toBe(0);
    expect(parseError('ab{{=<% =}}').position).toEqual({ offset: 2, line: 1, column: 3 });
  });

  it('reports unclosed tags after a delimiter change with the new delimiters', () => {
    const err = parseError('{{=<% %>=}}\n<% a %> <% b');
    expect(err.position).toEqual({ offset: 20, line: 2, column: 9 });
    expect(err.message).toContain('"<%" has no matching "%>"');
  });

  it('refuses sections nested more than 256 deep', () => {
    const deep = `${'{{#a}}'.repeat(300)}${'{{/a}}'.repeat(300)}`;
    expect(parseError(deep).code).toBe('template_invalid');
    const ok = `${'{{#a}}'.repeat(100)}x${'{{/a}}'.repeat(100)}`;
    expect(renderTemplate(ok, { a: true })).toBe('x');
  });

  it('renders an empty template as empty text', () => {
    expect(renderTemplate('', { a: 1 })).toBe('');
  });
});

describe('JSON-safe escape mode', () => {
  it('escapes {{x}} for a JSON string and leaves raw tags raw', () => {
    const reason = 'a "quoted" \\ back\nslash </script> \u2028';
    const body = renderTemplate(
      '{"reason":"{{reason}}","raw":{{{obj}}}}',
      { reason, obj: { x: 1 } },
      { escape: 'json' },
    );
    expect(JSON.parse(body)).toEqual({ reason, raw: { x: 1 } });
    expect(body).toContain('\\u2028');
  });

  it('escapes objects printed by {{x}} as JSON inside a string', () => {
    const body = renderTemplate('{"o":"{{o}}"}', { o: { a: '"' } }, { escape: 'json' });
    expect(JSON.parse(body)).toEqual({ o: '{"a":"\\""}' });
  });

  it('leaves html characters alone', () => {
    expect(renderTemplate('{{s}}', { s: '<&>' }, { escape: 'json' })).toBe('<&>');
  });

  it('escapeJson and escapeHtml', () => {
    expect(escapeJson('plain')).toBe('plain');
    expect(escapeJson('\u0001"\ud800')).toBe('\\u0001\\"\\ud800');
    expect(escapeHtml('<a href="x">&</a>')).toBe('&lt;a href=&quot;x&quot;&gt;&amp;&lt;/a&gt;');
  });
});

describe('template cache', () => {
  it('is bounded', () => {
    clearTemplateCache();
    for (let i = 0; i < TEMPLATE_CACHE_MAX_ENTRIES + 50; i++) renderTemplate(`t${i} {{x}}`, { x: i });
    expect(templateCacheSize()).toBe(TEMPLATE_CACHE_MAX_ENTRIES);
    expect(renderTemplate('t0 {{x}}', { x: 'again' })).toBe('t0 again');
    clearTemplateCache();
    expect(templateCacheSize()).toBe(0);
  });
});
