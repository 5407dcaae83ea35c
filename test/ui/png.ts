/**
 * A tiny PNG decoder for the browser tests' screenshots: enough to tell a blank page from a
 * rendered one. 8-bit truecolour (RGB) and truecolour with alpha (RGBA), not interlaced, as
 * Chromium writes them; anything else is refused with an error naming what it found. Chunk
 * CRCs are not checked.
 */
import { inflateSync } from 'node:zlib';

/** A decoded image: `channels` bytes per pixel, rows top to bottom, no padding. */
export interface DecodedPng {
  width: number;
  height: number;
  /** 3 (RGB) or 4 (RGBA). */
  channels: 3 | 4;
  pixels: Uint8Array;
}

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** The Paeth predictor of the PNG specification (filter type 4). */
function paeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const pa = Math.abs(p - a);
  const pb = Math.abs(p - b);
  const pc = Math.abs(p - c);
  if (pa <= pb && pa <= pc) return a;
  return pb <= pc ? b : c;
}

/**
 * Decodes a PNG file. Throws for a file that is not a PNG, is cut short, or has a format
 * other than 8-bit RGB or RGBA without interlacing.
 *
 * @example
 * ```ts
 * const { width, height } = decodePng(await page.screenshot({ type: 'png' }));
 * ```
 */
export function decodePng(file: Uint8Array): DecodedPng {
  const data = Buffer.from(file.buffer, file.byteOffset, file.byteLength);
  if (data.length < 8 || !data.subarray(0, 8).equals(SIGNATURE)) throw new Error('not a PNG file');
  let width = 0;
  let height = 0;
  let channels: 3 | 4 | undefined;
  const idat: Buffer[] = [];
  for (let at = 8; at + 8 <= data.length; ) {
    const length = data.readUInt32BE(at);
    const type = data.toString('latin1', at + 4, at + 8);
    const body = data.subarray(at + 8, at + 8 + length);
    if (body.length !== length) throw new Error(`PNG chunk ${type} is cut short`);
    if (type === 'IHDR') {
      width = body.readUInt32BE(0);
      height = body.readUInt32BE(4);
      const [depth, colour, , , interlace] = [body[8], body[9], body[10], body[11], body[12]];
      if (depth !== 8 || (colour !== 2 && colour !== 6) || interlace !== 0) {
        throw new Error(`unsupported PNG: bit depth ${depth}, colour type ${colour}, interlace ${interlace}`);
      }
      channels = colour === 2 ? 3 : 4;
    } else if (type === 'IDAT') {
      idat.push(body);
    } else if (type === 'IEND') {
      break;
    }
    at += 12 + length;
  }
  if (channels === undefined || width === 0 || height === 0) throw new Error('PNG without a usable IHDR');
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * channels;
  if (raw.length < height * (stride + 1)) throw new Error('PNG image data is cut short');
  const pixels = new Uint8Array(height * stride);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    const line = y * (stride + 1) + 1;
    const row = y * stride;
    const previous = row - stride;
    for (let x = 0; x < stride; x++) {
      const value = raw[line + x] as number;
      const left = x >= channels ? (pixels[row + x - channels] as number) : 0;
      const up = y > 0 ? (pixels[previous + x] as number) : 0;
      const upLeft = y > 0 && x >= channels ? (pixels[previous + x - channels] as number) : 0;
      let predicted: number;
      switch (filter) {
        case 0:
          predicted = 0;
          break;
        case 1:
          predicted = left;
          break;
        case 2:
          predicted = up;
          break;
        case 3:
          predicted = (left + up) >> 1;
          break;
        case 4:
          predicted = paeth(left, up, upLeft);
          break;
        default:
          throw new Error(`PNG row ${y} has an unknown filter type ${filter}`);
      }
      pixels[row + x] = (value + predicted) & 0xff;
    }
  }
  return { width, height, channels, pixels };
}

/**
 * How many different colours (RGB, alpha ignored) the image has, counting up to `limit`
 * (default 10 000): a blank page has one.
 *
 * @example
 * ```ts
 * expect(distinctColours(decodePng(png))).toBeGreaterThan(8);
 * ```
 */
export function distinctColours(image: DecodedPng, limit = 10_000): number {
  const seen = new Set<number>();
  const { pixels, channels } = image;
  for (let i = 0; i + 2 < pixels.length && seen.size < limit; i += channels) {
    seen.add(((pixels[i] as number) << 16) | ((pixels[i + 1] as number) << 8) | (pixels[i + 2] as number));
  }
  return seen.size;
}
