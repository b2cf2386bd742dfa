import { UnprocessableMediaError } from '@app/core';

/**
 * A picture of width×height above `limit` pixels → the failure saying by how much, in megapixels;
 * null within the limit. Images and video frames are refused with the same words.
 */
export function pixelLimitError(subject: 'image' | 'video', width: number, height: number, limit: number): UnprocessableMediaError | null {
  if (width * height <= limit) return null;
  const perFrame = subject === 'video' ? ' per frame' : '';
  return new UnprocessableMediaError(
    `The ${subject} is ${width}×${height} pixels (${megapixels(width * height)} MP${perFrame}), above this service's limit of ${megapixels(limit)} MP.`,
    'too_many_pixels',
  );
}

function megapixels(pixels: number): string {
  return String(+(pixels / 1e6).toFixed(1));
}
