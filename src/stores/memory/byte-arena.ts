/**
 * Append-only storage of strings as UTF-8 bytes outside the JavaScript heap: the memory store
 * keeps its request bodies here.
 *
 * Why: V8 lets the old generation grow to a multiple (up to 4x) of the live heap before it
 * collects it, so every byte a store keeps on the heap costs up to four bytes of peak memory
 * while garbage is promoted, which is what every attempt to a receiver that is down does (Node
 * promotes each socket, about 1.5 KB). Bytes in an `ArrayBuffer` count once. In bench/backlog
 * (100 000 bodies of about 540 bytes) the bodies went from 53 MB of heap to 54 MB here.
 *
 * Nothing is ever freed: the memory store keeps its deliveries, and so their bodies, for its
 * whole life.
 */

/** Size of one chunk of the arena; a longer string gets a chunk of its own. */
export const ARENA_CHUNK_BYTES = 1 << 20;

/** Where {@link ByteArena.put} stored a string. */
export interface ArenaRef {
  chunk: number;
  start: number;
  bytes: number;
  /** Whether every character was ASCII, so one byte is one character (read back as latin1). */
  ascii: boolean;
}

export class ByteArena {
  readonly #chunks: Buffer[] = [];
  #current: Buffer | undefined;
  /** The current chunk's index (a chunk of its own may have been added after it). */
  #currentIndex = -1;
  #used = 0;

  /** Bytes held by the arena's chunks (used or not). */
  get capacityBytes(): number {
    let total = 0;
    for (const chunk of this.#chunks) total += chunk.length;
    return total;
  }

  /** Stores `s` and says where: `ref` is filled in place, so no object is allocated per call. */
  put(s: string, ref: ArenaRef): void {
    const bytes = Buffer.byteLength(s, 'utf8');
    ref.bytes = bytes;
    ref.ascii = bytes === s.length;
    if (bytes === 0) {
      ref.chunk = 0;
      ref.start = 0;
      return;
    }
    if (bytes > ARENA_CHUNK_BYTES) {
      // Its own chunk, exactly as long; the current chunk stays current.
      const own = Buffer.allocUnsafeSlow(bytes);
      own.write(s, 0, bytes, ref.ascii ? 'latin1' : 'utf8');
      ref.chunk = this.#chunks.push(own) - 1;
      ref.start = 0;
      return;
    }
    if (this.#current === undefined || this.#used + bytes > this.#current.length) {
      // allocUnsafeSlow: a chunk of its own, not a slice of Node's shared pool.
      this.#current = Buffer.allocUnsafeSlow(ARENA_CHUNK_BYTES);
      this.#currentIndex = this.#chunks.push(this.#current) - 1;
      this.#used = 0;
    }
    this.#current.write(s, this.#used, bytes, ref.ascii ? 'latin1' : 'utf8');
    ref.chunk = this.#currentIndex;
    ref.start = this.#used;
    this.#used += bytes;
  }

  /** The string stored at `chunk`/`start`, `bytes` long. */
  get(chunk: number, start: number, bytes: number, ascii: boolean): string {
    if (bytes === 0) return '';
    const buffer = this.#chunks[chunk] as Buffer;
    return buffer.toString(ascii ? 'latin1' : 'utf8', start, start + bytes);
  }
}
