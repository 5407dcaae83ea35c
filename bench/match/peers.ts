import picomatch from 'picomatch';
import { QlobberDedup } from 'qlobber';
import type { MatchableWebhook, MatchQuery } from '../../src/matching/index.js';
import { picomatchGlobs } from '../../src/matching/naive.js';

/** A matcher under test: answers how many webhooks a query reaches (building the result list). */
export type CountMatches = (query: MatchQuery) => number;

const passes = (w: MatchableWebhook, event: string | null | undefined): boolean =>
  event === null || event === undefined || w.allEvents || w.limitEvents.includes(event);

/** The naive loop: one precompiled picomatch matcher per pattern, every webhook tested per query. */
export function naiveLoop(webhooks: readonly MatchableWebhook[]): CountMatches {
  const prepared = webhooks.map((w) => ({
    w,
    matchers: w.eventTypes.map((p) => picomatch(picomatchGlobs(p))),
  }));
  return ({ type, event }) => {
    const path = type.split('.').join('/');
    const out: MatchableWebhook[] = [];
    for (const { w, matchers } of prepared) {
      if (!w.enabled || !passes(w, event)) continue;
      for (const m of matchers) {
        if (m(path)) {
          out.push(w);
          break;
        }
      }
    }
    return out.length;
  };
}

/** Converts a hookline glob to an AMQP topic pattern (`**` and lone `*` become `#`). */
const toTopic = (pattern: string): string =>
  pattern === '*'
    ? '#'
    : pattern
        .split('.')
        .map((s) => (s === '**' ? '#' : s))
        .join('.');

const qlobberOptions = { separator: '.', wildcard_one: '*', wildcard_some: '#' };

/** qlobber with type-only topics (enabled webhooks only); the event filter runs on the result. */
export function qlobberTypeOnly(webhooks: readonly MatchableWebhook[]): CountMatches {
  const q = new QlobberDedup<MatchableWebhook>(qlobberOptions);
  for (const w of webhooks) if (w.enabled) for (const p of w.eventTypes) q.add(toTopic(p), w);
  return ({ type, event }) => {
    const out: MatchableWebhook[] = [];
    for (const w of q.match(type)) if (passes(w, event)) out.push(w);
    return out.length;
  };
}

/** qlobber with the event slug as the first topic word (`_` for organizer-level notifications). */
export function qlobberWithSlug(webhooks: readonly MatchableWebhook[]): CountMatches {
  const q = new QlobberDedup<MatchableWebhook>(qlobberOptions);
  for (const w of webhooks) {
    if (!w.enabled) continue;
    for (const p of w.eventTypes) {
      const topic = toTopic(p);
      if (w.allEvents) q.add(`*.${topic}`, w);
      else {
        q.add(`_.${topic}`, w);
        for (const slug of w.limitEvents) q.add(`${slug}.${topic}`, w);
      }
    }
  }
  return ({ type, event }) => [...q.match(`${event ?? '_'}.${type}`)].length;
}
