import { describe, expect, it } from 'vitest';
import { ARENA_CHUNK_BYTES, type ArenaRef, ByteArena } from '../../src/stores/memory/byte-arena.js';

const ref = (): ArenaRef => ({ chunk: -1, start: -1, bytes: -1, ascii: false });

describe('ByteArena', () => {
  it('gives back ASCII, non-ASCII and empty strings as stored', () => {
    const arena = new ByteArena();
    const texts = ['{"a":1}', 'Grüße, 東京 🎉', '', 'x'.repeat(1000)];
    const refs = texts.map((t) => {
      const r = ref();
      arena.put(t, r);
      return r;
    });
    expect(refs.map((r) => r.ascii)).toEqual([true, false, true, true]);
    expect(refs[1]?.bytes).toBe(Buffer.byteLength(texts[1] as string));
    expect(refs.map((r) => arena.get(r.chunk, r.start, r.bytes, r.ascii))).toEqual(texts);
  });

  it('starts a new chunk when one is full, and gives a longer string a chunk of its own', () => {
    const arena = new ByteArena();
    const half = 'a'.repeat(ARENA_CHUNK_BYTES / 2 + 1);
    const [r1, r2, big, r3] = [ref(), ref(), ref(), ref()];
    arena.put(half, r1);
    arena.put(half.replaceAll('a', 'b'), r2); // does not fit behind the first
    const huge = 'c'.repeat(ARENA_CHUNK_BYTES + 10);
    arena.put(huge, big);
    arena.put('after', r3); // still goes into the second chunk
    expect([r1.chunk, r2.chunk, big.chunk, r3.chunk]).toEqual([0, 1, 2, 1]);
    expect(arena.get(r2.chunk, r2.start, r2.bytes, r2.ascii)).toBe(half.replaceAll('a', 'b'));
    expect(arena.get(big.chunk, big.start, big.bytes, big.ascii)).toBe(huge);
    expect(arena.get(r3.chunk, r3.start, r3.bytes, r3.ascii)).toBe('after');
    expect(arena.capacityBytes).toBe(2 * ARENA_CHUNK_BYTES + huge.length);
  });

  it('reads a lone surrogate back as U+FFFD, the UTF-8 bytes a transport sends for it', () => {
    const arena = new ByteArena();
    const r = ref();
    arena.put('a\ud800b', r);
    expect(arena.get(r.chunk, r.start, r.bytes, r.ascii)).toBe('a\ufffdb');
    // Why U+FFFD loses nothing: the UTF-8 a transport sends for the lone surrogate is already
    // U+FFFD's bytes, so what the arena gives back goes out byte for byte as the original would.
    expect(Buffer.from('a\ud800b')).toEqual(Buffer.from('a\ufffdb'));
  });
});
