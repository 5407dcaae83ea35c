/**
 * Deeply nested sections: refused as template_invalid before any recursive step runs, never a
 * stack overflow (the depth check itself is iterative).
 */
import { describe, expect, it } from 'vitest';
import { TemplateError } from '../../src/errors.js';
import {
  compileTemplate,
  MAX_SECTION_DEPTH,
  renderHeaders,
  renderTemplate,
  validateTemplate,
} from '../../src/templates/index.js';
import { thrownBy } from '../helpers/errors.js';

const sections = (levels: number, open = '#') => `${`{{${open}a}}`.repeat(levels)}${'{{/a}}'.repeat(levels)}`;

describe('templates: section depth', () => {
  it(`accepts ${MAX_SECTION_DEPTH} nested sections`, () => {
    expect(renderTemplate(sections(MAX_SECTION_DEPTH), { a: true })).toBe('');
  });

  it.each([MAX_SECTION_DEPTH + 1, 5_000, 50_000])('refuses %i nested sections with a position', (levels) => {
    const error = thrownBy(() => compileTemplate(sections(levels)), TemplateError);
    expect(error.code).toBe('template_invalid');
    expect(error.message).toContain(`nested more than ${MAX_SECTION_DEPTH} deep`);
    // The 257th opening tag, 6 characters each.
    expect(error.position).toEqual({
      offset: MAX_SECTION_DEPTH * 6,
      line: 1,
      column: MAX_SECTION_DEPTH * 6 + 1,
    });
  });

  it('inverted sections count the same', () => {
    expect(() => renderTemplate(sections(20_000, '^'), {})).toThrow(TemplateError);
  });

  it('validateTemplate reports 20 000 nested sections as an issue', () => {
    const issues = validateTemplate(sections(20_000), { field: 'bodyTemplate', maxBytes: 1_000_000 });
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatchObject({ path: ['bodyTemplate'], code: 'template_invalid' });
    const headers = validateTemplate(`X-A: ${sections(20_000)}`, {
      field: 'headerTemplate',
      kind: 'headers',
      maxBytes: 1_000_000,
    });
    expect(headers).toMatchObject([{ path: ['headerTemplate'], code: 'template_invalid' }]);
  });

  it('renderHeaders refuses them with a TemplateError', () => {
    expect(() => renderHeaders(`X-A: ${sections(20_000)}`, {})).toThrow(TemplateError);
  });

  it('deep data only goes through JSON.stringify, and a failure there is a TemplateError', () => {
    let deep: unknown[] = [];
    const root = deep;
    for (let i = 0; i < 1_000_000; i++) {
      const next: unknown[] = [];
      deep.push(next);
      deep = next;
    }
    expect(() => renderTemplate('{{{a}}}', { a: root })).toThrow(TemplateError);
  });
});
