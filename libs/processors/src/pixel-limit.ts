import { UnprocessableMediaError } from '@app/core';

/**
 * The longest side a picture may have, whatever its pixel count: 65,535, the most a JPEG, GIF,
 * AVIF or HEIC can hold and more than browsers draw. Only PNG and TIFF headers can say more, and
 * what they say costs out of proportion to the pixels: libvips decodes line by line, so a 1.3 MB
 * PNG of 99,000,000×1 took 3.4 GB of memory to decode (its one line, buffered per thread) and one
 * of 1×99,000,000 took 37 s of CPU (a line's overhead 99 million times), both within 100 MP.
 */
export const MAX_EDGE = 65_535;

/**
 * A picture of width×height above `limit` pixels, or with a side longer than MAX_EDGE → the
 * failure saying why, in megapixels or pixels; null within the limits. Images and video frames are
 * refused with the same words.
 */
export function pixelLimitError(subject: 'image' | 'video', width: number, height: number, limit: number): UnprocessableMediaError | null {
  if (Math.max(width, height) > MAX_EDGE) {
    return new UnprocessableMediaError(
      `The ${subject} is ${width}×${height} pixels: this service takes at most ${MAX_EDGE.toLocaleString('en-US')} pixels on a side.`,
      'too_many_pixels',
    );
  }
  if (width * height <= limit) return null;
  const perFrame = subject === 'video' ? ' per frame' : '';
  const [size, most] = megapixels(width * height, limit);
  return new UnprocessableMediaError(
    `The ${subject} is ${width}×${height} pixels (${size} MP${perFrame}), above this service's limit of ${most} MP.`,
    'too_many_pixels',
  );
}

/**
 * `pixels` and `limit` in megapixels, to one decimal where that tells them apart (256 and 40),
 * else to as many more as it takes (100.01 and 100, not 100 and 100), and never a limit of 0 MP
 * (0.06 and 0.01, not 0.1 and 0): a count of pixels is exact to six decimals, and rounding keeps
 * the order, so the first always reads larger.
 */
function megapixels(pixels: number, limit: number): [string, string] {
  const inMp = (count: number, digits: number) => String(+(count / 1e6).toFixed(digits));
  let digits = 1;
  while (digits < 6 && (inMp(pixels, digits) === inMp(limit, digits) || inMp(limit, digits) === '0')) digits++;
  return [inMp(pixels, digits), inMp(limit, digits)];
}
