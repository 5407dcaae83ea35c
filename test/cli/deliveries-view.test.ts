import { describe, expect, it } from 'vitest';
import { deliveryView, nextAttemptColumn } from '../../src/cli/commands/deliveries.js';
import type { Delivery } from '../../src/model.js';

const base: Delivery = {
  id: 'msg_1',
  scope: 'acme',
  webhookId: 1,
  notificationId: 'n1',
  type: 'order.paid',
  event: null,
  request: { url: 'https://user:pw@example.com/hook', method: 'POST', headers: {}, body: '{}' },
  state: 'pending',
  attemptCount: 0,
  nextAttemptAt: null,
  lastStatus: null,
  lastError: null,
  ordered: true,
  orderingKey: 'order-17',
  pausesLine: false,
  createdAt: new Date('2026-01-01T00:00:00Z'),
  updatedAt: new Date('2026-01-01T00:00:00Z'),
};

describe('hookline deliveries: ordered deliveries', () => {
  it('prints the line fields of a delivery', () => {
    expect(deliveryView(base)).toMatchObject({ ordered: true, orderingKey: 'order-17', pausesLine: false });
    expect(deliveryView({ ...base, ordered: false, orderingKey: null })).toMatchObject({
      ordered: false,
      orderingKey: null,
    });
  });

  it('says in the table where an ordered delivery waits', () => {
    expect(nextAttemptColumn(base)).toBe('waiting in line');
    expect(nextAttemptColumn({ ...base, state: 'failed', pausesLine: true })).toBe('line paused here');
    const due = new Date('2026-01-01T00:01:00Z');
    expect(nextAttemptColumn({ ...base, nextAttemptAt: due })).toBe(due);
    expect(nextAttemptColumn({ ...base, ordered: false, state: 'succeeded' })).toBeNull();
  });
});
