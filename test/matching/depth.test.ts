/**
 * Matching is iterative: patterns and types of any number of segments (the public
 * createMatchIndex does not limit them) never overflow the call stack.
 */
import { describe, expect, it } from 'vitest';
import { createMatchIndex, type MatchableWebhook } from '../../src/matching/index.js';

const SEGMENTS = 100_000;
const longType = (last: string) => `${'a.'.repeat(SEGMENTS)}${last}`;

function hook(id: number, eventTypes: string[]): MatchableWebhook {
  return { id, enabled: true, eventTypes, allEvents: true, limitEvents: [] };
}

describe('matching: very long types and patterns', () => {
  it('a ** pattern against a type of 100 000 segments, before and after the type is cached', () => {
    const index = createMatchIndex<MatchableWebhook>();
    index.upsert(hook(1, ['**.z']));
    expect(index.match({ type: longType('z') }).map((h) => h.id)).toEqual([1]);
    expect(index.match({ type: longType('y') })).toEqual([]);
    // Upserting wildcard patterns re-checks the cached types against them.
    index.upsert(hook(2, ['a.**.z', '*.**']));
    index.upsert(hook(3, ['a.**.y']));
    expect(index.match({ type: longType('z') }).map((h) => h.id)).toEqual([1, 2]);
    expect(index.match({ type: longType('y') }).map((h) => h.id)).toEqual([2, 3]);
  });

  it('a pattern of 100 000 * segments against types of as many segments', () => {
    const index = createMatchIndex<MatchableWebhook>();
    const stars = `${'*.'.repeat(SEGMENTS)}*`;
    index.upsert(hook(1, [stars]));
    expect(index.match({ type: longType('b') }).map((h) => h.id)).toEqual([1]);
    expect(index.match({ type: `${longType('b')}.c` })).toEqual([]);
    index.upsert(hook(2, [`${'*.'.repeat(SEGMENTS)}**`]));
    expect(index.match({ type: `${longType('b')}.c` }).map((h) => h.id)).toEqual([2]);
  });

  it('several ** segments stay correct (backtracking)', () => {
    const index = createMatchIndex<MatchableWebhook>();
    index.upsert(hook(1, ['a.**.b.**.c']));
    index.upsert(hook(2, ['**.b.*']));
    const type = (middle: string) => `a.${middle}.c`;
    expect(index.match({ type: type('x.b.y') }).map((h) => h.id)).toEqual([1]);
    expect(index.match({ type: type('b') }).map((h) => h.id)).toEqual([1, 2]);
    expect(index.match({ type: type('x.y') })).toEqual([]);
    expect(index.match({ type: `${'a.'.repeat(SEGMENTS)}b.b.c` }).map((h) => h.id)).toEqual([1, 2]);
  });
});
