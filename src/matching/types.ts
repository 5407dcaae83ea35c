/**
 * The minimal shape the matching engine needs from a webhook. Any richer object (such as a
 * stored `WebhookRecord`) fits, and the index hands the same objects back from `match()`.
 *
 * @example
 * ```ts
 * const hook: MatchableWebhook = {
 *   id: 1, enabled: true, eventTypes: ['pretix.event.order.paid'], allEvents: true, limitEvents: [],
 * };
 * ```
 */
export interface MatchableWebhook {
  /** Unique within the scope; results are ordered by it (ascending). */
  readonly id: number;
  /** Disabled webhooks never match. */
  readonly enabled: boolean;
  /** Event-type patterns: catalog keys in catalog mode, dotted globs in glob mode. */
  readonly eventTypes: readonly string[];
  /** `true`: receives notifications of every event. */
  readonly allEvents: boolean;
  /** Event slugs received when `allEvents` is `false`. */
  readonly limitEvents: readonly string[];
}

/**
 * What is matched: a notification's `type` and its optional pretix `event` slug. `null` or
 * `undefined` means an organizer-level notification, which ignores the event filter.
 *
 * @example
 * ```ts
 * const query: MatchQuery = { type: 'pretix.event.order.paid', event: 'democon' };
 * ```
 */
export interface MatchQuery {
  /** The concrete event type, e.g. `pretix.event.order.changed.item` or `pay`. */
  readonly type: string;
  /** The event slug, or `null`/`undefined` for a notification not tied to an event. */
  readonly event?: string | null | undefined;
}
