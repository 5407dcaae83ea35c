import { type CatalogEntries, createCatalog, type EventCatalog } from './catalog.js';

const e = (label: string, description: string) => ({ label, description });

const order = 'pretix.event.order';
const pretixEntries: CatalogEntries = {
  [`${order}.placed`]: e('New order placed', 'An order was placed (paid or not).'),
  [`${order}.placed.require_approval`]: e(
    'New order requires approval',
    'An order was placed that needs approval.',
  ),
  [`${order}.paid`]: e('Order marked as paid', 'An order was marked as paid.'),
  [`${order}.canceled`]: e('Order canceled', 'An order was canceled.'),
  [`${order}.reactivated`]: e('Order reactivated', 'A canceled order was reactivated.'),
  [`${order}.expired`]: e('Order expired', 'An unpaid order expired.'),
  [`${order}.expirychanged`]: e('Order expiry date changed', 'The payment deadline of an order changed.'),
  [`${order}.modified`]: e('Order information changed', 'Answers or attendee data of an order changed.'),
  [`${order}.contact.changed`]: e('Order contact address changed', 'The contact email or phone changed.'),
  [`${order}.changed.*`]: e('Order changed', 'Positions, products, prices or fees of an order changed.'),
  [`${order}.deleted`]: e('Order deleted', 'A test-mode order was deleted.'),
  [`${order}.refund.created`]: e('Refund of payment created', 'A refund was created.'),
  [`${order}.refund.created.externally`]: e(
    'External refund of payment',
    'A refund happened outside pretix.',
  ),
  [`${order}.refund.requested`]: e(
    'Refund of payment requested by customer',
    'A customer asked for a refund.',
  ),
  [`${order}.refund.done`]: e('Refund of payment completed', 'A refund was completed.'),
  [`${order}.refund.canceled`]: e('Refund of payment canceled', 'A refund was canceled.'),
  [`${order}.refund.failed`]: e('Refund of payment failed', 'A refund failed.'),
  [`${order}.payment.confirmed`]: e('Payment confirmed', 'A payment of an order was confirmed.'),
  [`${order}.approved`]: e('Order approved', 'An order needing approval was approved.'),
  [`${order}.denied`]: e('Order denied', 'An order needing approval was denied.'),
  'pretix.event.orders.waitinglist.added': e('Added to waiting list', 'A waiting-list entry was added.'),
  'pretix.event.orders.waitinglist.changed': e('Waiting list entry changed', 'A waiting-list entry changed.'),
  'pretix.event.orders.waitinglist.deleted': e(
    'Waiting list entry deleted',
    'A waiting-list entry was deleted.',
  ),
  'pretix.event.orders.waitinglist.voucher_assigned': e(
    'Voucher assigned to waiting list entry',
    'A waiting-list entry received a voucher.',
  ),
  'pretix.event.checkin': e('Customer checked in', 'A ticket was checked in (or out).'),
  'pretix.event.checkin.reverted': e('Customer check-in reverted', 'A check-in was reverted.'),
  'pretix.event.added': e('Event created', 'An event was created.'),
  'pretix.event.changed': e('Event details changed', 'The settings of an event changed.'),
  'pretix.event.deleted': e('Event deleted', 'An event was deleted.'),
  'pretix.event.live.activated': e('Shop taken live', 'The shop of an event went live.'),
  'pretix.event.live.deactivated': e('Shop taken offline', 'The shop of an event went offline.'),
  'pretix.event.testmode.activated': e('Test mode activated', 'The shop of an event entered test mode.'),
  'pretix.event.testmode.deactivated': e('Test mode deactivated', 'The shop of an event left test mode.'),
  'pretix.subevent.added': e('Event series date added', 'A date was added to an event series.'),
  'pretix.subevent.changed': e('Event series date changed', 'A date of an event series changed.'),
  'pretix.subevent.deleted': e('Event series date deleted', 'A date was removed from an event series.'),
  'pretix.event.item.*': e(
    'Product changed',
    'A product, its variations, bundles or add-ons were added, changed or deleted.',
  ),
  'pretix.voucher.added': e('Voucher added', 'A voucher was created.'),
  'pretix.voucher.changed': e('Voucher changed', 'A voucher changed.'),
  'pretix.voucher.deleted': e('Voucher deleted', 'A voucher was deleted.'),
  'pretix.customer.created': e('Customer account created', 'A customer account was created.'),
  'pretix.customer.changed': e('Customer account changed', 'A customer account changed.'),
  'pretix.customer.anonymized': e('Customer account anonymized', 'A customer account was anonymized.'),
  'pretix.giftcards.created': e('Gift card added', 'A gift card was created.'),
  'pretix.giftcards.modified': e('Gift card modified', 'A gift card changed.'),
  'pretix.giftcards.transaction.*': e(
    'Gift card transaction',
    'A gift card was used, topped up or otherwise booked.',
  ),
};

/**
 * The action types known to pretix core (46 keys), the default catalog of the pretix dialect.
 * Wildcard keys: `pretix.event.order.changed.*`, `pretix.event.item.*`,
 * `pretix.giftcards.transaction.*`. Hosts add plugin types with `pretixCatalog.extend(...)`.
 *
 * @example
 * ```ts
 * pretixCatalog.resolve('pretix.event.item.variation.changed'); // 'pretix.event.item.*'
 * const withPlugin = pretixCatalog.extend({ 'pretix.plugins.banktransfer.imported': { label: 'Bank import', description: '...' } });
 * ```
 */
export const pretixCatalog: EventCatalog = createCatalog(pretixEntries);

const talerEntries: CatalogEntries = {
  order_created: e('Order created', 'An order was created.'),
  pay: e('Order paid', 'A customer paid an order.'),
  refund: e('Order refunded', 'A refund was granted for an order.'),
  order_settled: e('Order settled', 'The exchange wired the money for an order.'),
  category_added: e('Category added', 'A product category was added.'),
  category_updated: e('Category updated', 'A product category changed.'),
  category_deleted: e('Category deleted', 'A product category was deleted.'),
  inventory_added: e('Product added', 'A product was added to the inventory.'),
  inventory_updated: e('Product updated', 'An inventory product changed.'),
  inventory_deleted: e('Product deleted', 'A product was removed from the inventory.'),
};

/**
 * The ten GNU Taler merchant webhook event types (`order_created`, `pay`, `refund`,
 * `order_settled`, `category_added|updated|deleted`, `inventory_added|updated|deleted`),
 * the default catalog of the taler dialect.
 *
 * @example
 * ```ts
 * validateEventTypes(['pay', 'paid'], talerCatalog); // one issue: Invalid action type "paid".
 * ```
 */
export const talerCatalog: EventCatalog = createCatalog(talerEntries);
