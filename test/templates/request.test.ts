import { describe, expect, it } from 'vitest';
import type { Notification } from '../../src/model.js';
import { defaultPayload, type RenderableWebhook, renderRequest } from '../../src/templates/index.js';

const hook = (over: Partial<RenderableWebhook> = {}): RenderableWebhook => ({
  url: 'https://receiver.example/hook',
  method: 'POST',
  headerTemplate: null,
  bodyTemplate: null,
  templateEscape: null,
  ...over,
});

const pay: Notification = {
  scope: 'default',
  type: 'pay',
  data: { order_id: '2025.123-01ABC', contract_terms: { amount: 'KUDOS:5', summary: 'A "nice" thing' } },
};

const order: Notification = {
  scope: 'bigevents',
  type: 'pretix.event.order.paid',
  event: 'democon',
  data: { code: 'ABC12' },
  occurredAt: new Date('2025-05-03T10:20:30Z'),
};

describe('renderRequest', () => {
  it('renders the Taler worked example byte for byte', () => {
    const request = renderRequest(
      hook({
        headerTemplate: 'X-Taler-Order: {{order_id}}',
        bodyTemplate: '{"amount":"{{contract_terms.amount}}"}',
      }),
      pay,
      { notificationId: 'n1' },
    );
    expect(request).toEqual({
      url: 'https://receiver.example/hook',
      method: 'POST',
      headers: { 'X-Taler-Order': '2025.123-01ABC', 'Content-Type': 'application/json' },
      body: '{"amount":"KUDOS:5"}',
    });
  });

  it('sends the pretix default payload as pretix does', () => {
    const request = renderRequest(hook(), order, { notificationId: '4711', payloadStyle: 'pretix' });
    expect(request.headers).toEqual({ 'Content-Type': 'application/json' });
    expect(request.body).toBe(
      '{"notification_id":"4711","organizer":"bigevents","event":"democon","code":"ABC12","action":"pretix.event.order.paid"}',
    );
  });

  it('sends the generic default payload by default', () => {
    const request = renderRequest(hook(), order, { notificationId: 'n-1' });
    expect(JSON.parse(request.body)).toEqual({
      id: 'n-1',
      type: 'pretix.event.order.paid',
      timestamp: '2025-05-03T10:20:30.000Z',
      scope: 'bigevents',
      event: 'democon',
      data: { code: 'ABC12' },
    });
    expect(request.headers).toEqual({ 'Content-Type': 'application/json' });
  });

  it('chooses the content type of a body template: json, text, or the header template', () => {
    expect(
      renderRequest(hook({ bodyTemplate: ' [{{{contract_terms}}}]' }), pay, { notificationId: 'n' }).headers,
    ).toEqual({
      'Content-Type': 'application/json',
    });
    expect(
      renderRequest(hook({ bodyTemplate: 'order {{order_id}}' }), pay, { notificationId: 'n' }).headers,
    ).toEqual({
      'Content-Type': 'text/plain; charset=utf-8',
    });
    // Valid JSON but not an object or array: text.
    expect(
      renderRequest(hook({ bodyTemplate: '"{{order_id}}"' }), pay, { notificationId: 'n' }).headers,
    ).toEqual({
      'Content-Type': 'text/plain; charset=utf-8',
    });
    // Looks like JSON but is not (html escaping broke it).
    expect(
      renderRequest(hook({ bodyTemplate: '{"s":"{{{contract_terms.summary}}}"}' }), pay, {
        notificationId: 'n',
      }).headers,
    ).toEqual({ 'Content-Type': 'text/plain; charset=utf-8' });
    const own = renderRequest(
      hook({ headerTemplate: 'content-type: application/xml', bodyTemplate: '<a>{{order_id}}</a>' }),
      pay,
      { notificationId: 'n' },
    );
    expect(own.headers).toEqual({ 'content-type': 'application/xml' });
    // An empty body gets no content type.
    expect(renderRequest(hook({ bodyTemplate: '' }), pay, { notificationId: 'n' })).toMatchObject({
      body: '',
      headers: {},
    });
  });

  it('uses the webhook escape mode, else the default escape, else html', () => {
    const body = '{"summary":"{{contract_terms.summary}}"}';
    expect(renderRequest(hook({ bodyTemplate: body }), pay, { notificationId: 'n' }).body).toBe(
      '{"summary":"A &quot;nice&quot; thing"}',
    );
    const json = renderRequest(hook({ bodyTemplate: body }), pay, {
      notificationId: 'n',
      defaultEscape: 'json',
    });
    expect(JSON.parse(json.body)).toEqual({ summary: 'A "nice" thing' });
    expect(json.headers['Content-Type']).toBe('application/json');
    const html = renderRequest(hook({ bodyTemplate: body, templateEscape: 'html' }), pay, {
      notificationId: 'n',
      defaultEscape: 'json',
    });
    expect(html.body).toContain('&quot;');
  });

  it('sends no body with GET', () => {
    const request = renderRequest(hook({ method: 'GET', bodyTemplate: 'x' }), pay, { notificationId: 'n' });
    expect(request).toMatchObject({ method: 'GET', body: '', headers: {} });
    expect(renderRequest(hook({ method: 'GET' }), pay, { notificationId: 'n' }).body).toBe('');
  });

  it('passes other methods through with a body', () => {
    expect(renderRequest(hook({ method: 'PUT' }), pay, { notificationId: 'n' }).method).toBe('PUT');
    expect(renderRequest(hook({ method: 'DELETE' }), pay, { notificationId: 'n' }).body).not.toBe('');
  });

  it('enforces the template size limit', () => {
    expect(() =>
      renderRequest(hook({ bodyTemplate: 'x'.repeat(100) }), pay, {
        notificationId: 'n',
        maxTemplateBytes: 99,
      }),
    ).toThrow(expect.objectContaining({ code: 'template_invalid' }));
    expect(() =>
      renderRequest(hook({ headerTemplate: `X-A: ${'x'.repeat(100)}` }), pay, {
        notificationId: 'n',
        maxTemplateBytes: 99,
      }),
    ).toThrow(expect.objectContaining({ code: 'template_invalid' }));
  });

  it('surfaces header errors as template_render_failed', () => {
    expect(() =>
      renderRequest(
        hook({ headerTemplate: 'X-A: {{{v}}}' }),
        { scope: 's', type: 't', data: { v: 'a\nb' } },
        {
          notificationId: 'n',
        },
      ),
    ).toThrow(expect.objectContaining({ code: 'template_render_failed' }));
    expect(() =>
      renderRequest(hook(), { scope: 's', type: 't', data: { big: 1n } }, { notificationId: 'n' }),
    ).toThrow(expect.objectContaining({ code: 'template_render_failed' }));
  });
});

describe('defaultPayload', () => {
  it('pretix: fixed keys cannot be overridden by data', () => {
    const payload = defaultPayload(
      {
        scope: 'org',
        type: 'pretix.customer.created',
        data: { action: 'x', organizer: 'evil', customer: 'C1', notification_id: 9 },
      },
      { notificationId: '1', style: 'pretix' },
    );
    expect(payload).toEqual({
      notification_id: '1',
      organizer: 'org',
      event: null,
      customer: 'C1',
      action: 'pretix.customer.created',
    });
    expect(Object.keys(payload)).toEqual(['notification_id', 'organizer', 'event', 'customer', 'action']);
  });

  it('pretix: a __proto__ data key stays a plain key', () => {
    const data = JSON.parse('{"__proto__":{"polluted":true},"code":"A"}') as Record<string, unknown>;
    const payload = defaultPayload({ scope: 'o', type: 't', data }, { notificationId: '1', style: 'pretix' });
    expect(JSON.stringify(payload)).toBe(
      '{"notification_id":"1","organizer":"o","event":null,"__proto__":{"polluted":true},"code":"A","action":"t"}',
    );
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('generic: omits event when there is none and uses now when occurredAt is missing', () => {
    const now = new Date('2030-01-01T00:00:00Z');
    expect(
      defaultPayload({ scope: 's', type: 'refund', data: { a: 1 } }, { notificationId: 'x', now }),
    ).toEqual({
      id: 'x',
      type: 'refund',
      timestamp: '2030-01-01T00:00:00.000Z',
      scope: 's',
      data: { a: 1 },
    });
    expect(defaultPayload({ scope: 's', type: 'refund' }, { notificationId: 'x', now }).data).toEqual({});
  });

  it('generic: each payload carries its own time, however close the times are', () => {
    const at = (iso: string) =>
      defaultPayload({ scope: 's', type: 't' }, { notificationId: 'x', now: new Date(iso) }).timestamp;
    for (const iso of [
      '2030-01-01T00:00:00.000Z',
      '2030-01-01T00:00:00.000Z',
      '2030-01-01T00:00:00.001Z',
      '1999-12-31T23:59:59.999Z',
      '2030-01-01T00:00:00.001Z',
    ]) {
      expect(at(iso)).toBe(iso);
    }
    expect(() => at('not a date')).toThrow(RangeError);
  });
});
