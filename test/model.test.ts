import { describe, expect, it } from 'vitest';
import { ValidationError } from '../src/errors.js';
import {
  NULL_CHARACTER_CODE,
  NULL_CHARACTER_MESSAGE,
  notificationSchema,
  type WebhookInput,
  webhookFieldsSchema,
  webhookPatchSchema,
} from '../src/model.js';
import { WebhookRegistry } from '../src/registry/registry.js';
import { nulIssue, validationIssues } from './helpers/errors.js';

const VALID: WebhookInput = { url: 'https://receiver.example/hook', eventTypes: ['order.paid'] };
const NUL = '\u0000';

/** Every webhook text field with a NUL in it, and the issue path it must be reported at. */
const NUL_FIELDS: [string, WebhookInput, (string | number)[]][] = [
  ['url', { ...VALID, url: `https://receiver.example/a${NUL}b` }, ['url']],
  ['key', { ...VALID, key: `orders${NUL}` }, ['key']],
  ['eventTypes', { ...VALID, eventTypes: ['order.paid', `order${NUL}.paid`] }, ['eventTypes', 1]],
  ['limitEvents', { ...VALID, allEvents: false, limitEvents: [`democon${NUL}`] }, ['limitEvents', 0]],
  ['headerTemplate', { ...VALID, headerTemplate: `X-A: {{a}}${NUL}` }, ['headerTemplate']],
  ['bodyTemplate', { ...VALID, bodyTemplate: `{"a":"${NUL}"}` }, ['bodyTemplate']],
  ['comment', { ...VALID, comment: `hello${NUL}world` }, ['comment']],
];

describe('model: NUL (U+0000) in webhook text fields', () => {
  it('the message is DRF’s and the code is stable', () => {
    expect(NULL_CHARACTER_MESSAGE).toBe('Null characters are not allowed.');
    expect(NULL_CHARACTER_CODE).toBe('null_character');
  });

  it.each(NUL_FIELDS)('the schemas refuse a NUL in %s', (_name, input, path) => {
    const full = webhookFieldsSchema.safeParse(input);
    expect(full.success).toBe(false);
    const field = path[0] as keyof WebhookInput;
    const patch = webhookPatchSchema.safeParse({ [field]: input[field] });
    expect(patch.success).toBe(false);
  });

  it.each(NUL_FIELDS)(
    'create, replace and update refuse a NUL in %s with one null_character issue',
    async (_name, input, path) => {
      const registry = new WebhookRegistry();
      expect(await validationIssues(() => registry.create('acme', input))).toEqual([nulIssue(path)]);
      const hook = await registry.create('acme', VALID);
      expect(await validationIssues(() => registry.replace('acme', hook.id, input))).toEqual([
        nulIssue(path),
      ]);
      const field = path[0] as keyof WebhookInput;
      const patch =
        field === 'limitEvents'
          ? { allEvents: false, limitEvents: input.limitEvents }
          : { [field]: input[field] };
      expect(await validationIssues(() => registry.update('acme', hook.id, patch))).toEqual([nulIssue(path)]);
      // Nothing was stored or changed.
      expect((await registry.list('acme')).items).toEqual([hook]);
    },
  );

  it('a NUL is reported as null_character, not also as a control character', async () => {
    const registry = new WebhookRegistry();
    expect(await validationIssues(() => registry.create(`ac${NUL}me`, VALID))).toEqual([nulIssue(['scope'])]);
  });

  it('eventExists is never asked about a slug with a NUL', async () => {
    const asked: string[] = [];
    const registry = new WebhookRegistry({
      eventExists: (_scope, slug) => {
        asked.push(slug);
        return true;
      },
    });
    await expect(
      registry.create('acme', { ...VALID, allEvents: false, limitEvents: [`a${NUL}`] }),
    ).rejects.toBeInstanceOf(ValidationError);
    expect(asked).toEqual([]);
    // The same call with a valid slug does ask: the check above is not vacuous.
    await registry.create('acme', { ...VALID, allEvents: false, limitEvents: ['a'] });
    expect(asked).toEqual(['a']);
  });

  it('other control characters keep their own message', () => {
    const result = webhookFieldsSchema.safeParse({ ...VALID, key: 'a\u0007b' });
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((issue) => issue.message)).toEqual([
      'Control characters are not allowed.',
    ]);
  });

  it('notification fields with a NUL fail the notification schema', () => {
    for (const field of ['scope', 'type', 'event', 'id'] as const) {
      const input = { scope: 'acme', type: 'order.paid', [field]: `x${NUL}y` };
      const result = notificationSchema.safeParse(input);
      expect(result.success).toBe(false);
      expect(result.error?.issues).toMatchObject([{ path: [field], message: NULL_CHARACTER_MESSAGE }]);
    }
  });
});
