/**
 * The screenshot checker's PNG decoder against images encoded here with every filter type, so
 * that "not blank" in the browser tests rests on a decoder that is itself checked.
 */
import { deflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { decodePng, distinctColours } from './png.js';

function chunk(type: string, body: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(body.length, 0);
  head.write(type, 4, 'latin1');
  return Buffer.concat([head, body, Buffer.alloc(4)]); // CRC not checked by the decoder
}

const predictors: ((left: number, up: number, upLeft: number) => number)[] = [
  () => 0,
  (left) => left,
  (_left, up) => up,
  (left, up) => (left + up) >> 1,
  (left, up, upLeft) => {
    const p = left + up - upLeft;
    const [pa, pb, pc] = [Math.abs(p - left), Math.abs(p - up), Math.abs(p - upLeft)];
    return pa <= pb && pa <= pc ? left : pb <= pc ? up : upLeft;
  },
];

/** Encodes pixels as a PNG, row `y` with filter type `filters[y % filters.length]`. */
function encode(
  width: number,
  height: number,
  channels: 3 | 4,
  pixels: Uint8Array,
  filters: number[],
): Buffer {
  const stride = width * channels;
  const raw = Buffer.alloc(height * (stride + 1));
  for (let y = 0; y < height; y++) {
    const filter = filters[y % filters.length] ?? 0;
    const predict = predictors[filter] ?? (() => 0);
    raw[y * (stride + 1)] = filter;
    for (let x = 0; x < stride; x++) {
      const at = (yy: number, xx: number) => (yy < 0 || xx < 0 ? 0 : (pixels[yy * stride + xx] as number));
      const predicted = predict(at(y, x - channels), at(y - 1, x), at(y - 1, x - channels));
      raw[y * (stride + 1) + 1 + x] = ((pixels[y * stride + x] as number) - predicted) & 0xff;
    }
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8;
  ihdr[9] = channels === 3 ? 2 : 6;
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    // Two IDAT chunks: the decoder must join them before inflating.
    ...((z) => [chunk('IDAT', z.subarray(0, 7)), chunk('IDAT', z.subarray(7))])(deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

function picture(width: number, height: number, channels: 3 | 4): Uint8Array {
  const pixels = new Uint8Array(width * height * channels);
  for (let i = 0; i < pixels.length; i++) pixels[i] = (i * 37 + (i >> 3) * 11) & 0xff;
  return pixels;
}

describe('decodePng', () => {
  it.each([3, 4] as const)('decodes %i-channel images written with each filter type', (channels) => {
    const pixels = picture(13, 10, channels);
    const decoded = decodePng(encode(13, 10, channels, pixels, [0, 1, 2, 3, 4]));
    expect(decoded).toMatchObject({ width: 13, height: 10, channels });
    expect(Buffer.from(decoded.pixels).equals(Buffer.from(pixels))).toBe(true);
  });

  it('tells a blank image (one colour) from a drawn one', () => {
    const blank = new Uint8Array(20 * 5 * 3).fill(255);
    expect(distinctColours(decodePng(encode(20, 5, 3, blank, [4, 1])))).toBe(1);
    const drawn = blank.slice();
    drawn.set([10, 20, 30], 3 * 42);
    expect(distinctColours(decodePng(encode(20, 5, 3, drawn, [4, 1])))).toBe(2);
    expect(distinctColours(decodePng(encode(13, 10, 4, picture(13, 10, 4), [2])), 5)).toBe(5);
  });

  it('refuses what it cannot read', () => {
    expect(() => decodePng(Buffer.from('GIF89a'))).toThrow(/not a PNG/);
    const sixteenBit = encode(2, 2, 3, picture(2, 2, 3), [0]);
    sixteenBit[8 + 8 + 8] = 16; // IHDR bit depth
    expect(() => decodePng(sixteenBit)).toThrow(/bit depth 16/);
  });
});
