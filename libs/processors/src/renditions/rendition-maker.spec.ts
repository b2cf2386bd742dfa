import sharp from 'sharp';
import { thumbHashToRGBA } from 'thumbhash';
import { averagedRgba, thumbhashOf } from './rendition-maker';

describe('averagedRgba (the ThumbHash input, averaged in boxes)', () => {
  it('averages each box exactly, opaque', () => {
    // 4×4: four 2×2 blocks with values 10/20/30/40 (+0..3 within the block).
    const pixels = Buffer.alloc(4 * 4 * 3);
    for (let y = 0; y < 4; y++) {
      for (let x = 0; x < 4; x++) {
        const block = 10 * (1 + (y >> 1) * 2 + (x >> 1));
        const jitter = (y & 1) * 2 + (x & 1);
        pixels.set([block + jitter, 200 - block, 7], (y * 4 + x) * 3);
      }
    }
    expect(Array.from(averagedRgba(pixels, 4, 2))).toEqual([
      ...[12, 190, 7, 255],
      ...[22, 180, 7, 255],
      ...[32, 170, 7, 255],
      ...[42, 160, 7, 255],
    ]);
  });

  it('covers every pixel once when the side does not divide (200 → 32), and keeps a side under the target', () => {
    const pixels = Buffer.alloc(200 * 200 * 3, 99);
    const out = averagedRgba(pixels, 200, 32);
    expect(out).toHaveLength(32 * 32 * 4);
    expect(out.every((value, i) => value === (i % 4 === 3 ? 255 : 99))).toBe(true);
    expect(averagedRgba(Buffer.alloc(16 * 16 * 3, 5), 16, 16)).toHaveLength(16 * 16 * 4);
  });
});

describe('thumbhashOf', () => {
  it('gives a placeholder that looks like the square: red on the left, blue on the right', async () => {
    const side = 256;
    const pixels = await sharp({ create: { width: side, height: side, channels: 3, background: '#0000ff' } })
      .composite([{ input: { create: { width: side / 2, height: side, channels: 3, background: '#ff0000' } }, left: 0, top: 0 }])
      .removeAlpha()
      .raw()
      .toBuffer();
    const placeholder = thumbHashToRGBA(Buffer.from(thumbhashOf(pixels, side), 'base64'));
    const at = (fx: number, fy: number): number[] => {
      const o = (Math.floor(fy * placeholder.h) * placeholder.w + Math.floor(fx * placeholder.w)) * 4;
      return Array.from(placeholder.rgba.subarray(o, o + 3));
    };
    const [lr, , lb] = at(0.1, 0.5);
    const [rr, , rb] = at(0.9, 0.5);
    expect(lr).toBeGreaterThan(lb + 100);
    expect(rb).toBeGreaterThan(rr + 100);
  });
});
