import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { compileErrors, validate } from '@readme/openapi-parser';
import { describe, expect, it } from 'vitest';
import { OPENAPI_DIR, openApiFiles } from '../../scripts/openapi.js';
import { pretixOpenApi, talerOpenApi } from '../../src/http/index.js';

describe('OpenAPI documents', () => {
  for (const [name, build] of [
    ['pretix', () => pretixOpenApi({ basePath: '/api/v1' })],
    ['taler', () => talerOpenApi({ basePath: '/taler' })],
  ] as const) {
    it(`${name} is a valid OpenAPI 3.1 document`, async () => {
      const doc = build();
      const result = await validate(structuredClone(doc) as Parameters<typeof validate>[0]);
      expect(result.valid ? [] : compileErrors(result)).toEqual([]);
      expect(result.specification).toBe('OpenAPI');
      expect(doc.openapi).toBe('3.1.0');
    });
  }

  it('the validator does reject a broken document', async () => {
    const result = await validate({
      openapi: '3.1.0',
      info: { title: 'x' },
      paths: { nope: {} },
    } as unknown as Parameters<typeof validate>[0]);
    expect(result.valid).toBe(false);
  });

  it('documents the pretix paths and resource fields', () => {
    const doc = pretixOpenApi();
    expect(Object.keys(doc.paths as object)).toContain('/api/v1/organizers/{organizer}/webhooks/');
    const webhook = (doc.components as { schemas: Record<string, { properties: object }> }).schemas.Webhook;
    expect(Object.keys(webhook?.properties ?? {})).toEqual([
      'id',
      'enabled',
      'target_url',
      'all_events',
      'limit_events',
      'action_types',
      'comment',
    ]);
  });

  it('documents the recover and cancel extensions in both dialects', () => {
    const pretix = pretixOpenApi({ basePath: '/api/v1' }).paths as Record<string, Record<string, unknown>>;
    const taler = talerOpenApi({ basePath: '/taler' }).paths as Record<string, Record<string, unknown>>;
    for (const [paths, expected] of [
      [
        pretix,
        [
          '/api/v1/organizers/{organizer}/webhooks/{id}/recover/',
          '/api/v1/organizers/{organizer}/webhook-deliveries/recover/',
          '/api/v1/organizers/{organizer}/webhook-deliveries/{delivery_id}/cancel/',
        ],
      ],
      [
        taler,
        [
          '/taler/private/webhooks/{webhook_id}/recover',
          '/taler/private/webhook-deliveries/recover',
          '/taler/private/webhook-deliveries/{delivery_id}/cancel',
          '/taler/instances/{instance}/private/webhook-deliveries/recover',
        ],
      ],
    ] as const) {
      for (const path of expected) {
        const post = paths[path]?.post as {
          responses: Record<string, unknown>;
          'x-hookline-extension': boolean;
        };
        expect(post, path).toBeDefined();
        expect(post['x-hookline-extension']).toBe(true);
        expect(Object.keys(post.responses)).toContain('400');
      }
    }
    const scopeLevel = pretix['/api/v1/organizers/{organizer}/webhook-deliveries/recover/'] as {
      parameters: { name: string }[];
    };
    expect(scopeLevel.parameters.map((p) => p.name)).toEqual(['organizer']);
  });

  it('the committed files in docs/openapi are up to date (run `npx tsx scripts/openapi.ts`)', () => {
    for (const [name, text] of Object.entries(openApiFiles())) {
      expect(readFileSync(join(OPENAPI_DIR, name), 'utf8'), name).toBe(text);
    }
  });
});
