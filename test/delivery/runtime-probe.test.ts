/**
 * The dispatcher probe's watchdog: a fetch that neither calls the stand-in dispatcher nor
 * settles (it ignores the dispatcher and the abort signal) is taken as not honouring the
 * dispatcher after 5 s, and the probe request is aborted. Fake timers: no waiting.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { type FetchFunction, fetchHonoursDispatcher } from '../../src/delivery/transport/runtime.js';

afterEach(() => {
  vi.useRealTimers();
});

describe('fetchHonoursDispatcher with a fetch that never settles', () => {
  it('answers false at the 5 s watchdog, not before, and aborts the probe request', async () => {
    vi.useFakeTimers();
    const calls: { url: string; signal: AbortSignal | undefined }[] = [];
    const neverSettles: FetchFunction = (input, init) => {
      calls.push({ url: String(input), signal: init?.signal ?? undefined });
      return new Promise<Response>(() => undefined);
    };
    let answer: boolean | undefined;
    void fetchHonoursDispatcher(neverSettles).then((honoured) => {
      answer = honoured;
    });
    expect(calls).toHaveLength(1);
    expect(calls[0]?.url).toBe('http://127.0.0.1:0/');

    await vi.advanceTimersByTimeAsync(4_999);
    expect(answer).toBeUndefined();
    expect(calls[0]?.signal?.aborted).toBe(false);

    await vi.advanceTimersByTimeAsync(1);
    expect(answer).toBe(false);
    expect(calls[0]?.signal?.aborted).toBe(true);
    expect(calls[0]?.signal?.reason).toMatchObject({ message: expect.stringContaining('dispatcher probe') });
    // The answer is kept: asking again neither calls the fetch nor waits.
    expect(await fetchHonoursDispatcher(neverSettles)).toBe(false);
    expect(calls).toHaveLength(1);
    expect(vi.getTimerCount()).toBe(0);
  });
});
