import { UnprocessableMediaError } from '@app/core';

/** Turns a libvips/sharp error into a short message a person can act on. */
export function describeImageError(error: unknown): UnprocessableMediaError {
  const raw = ((error as Error | undefined)?.message ?? String(error)).split('\n')[0].trim();
  const detail = raw.length > 160 ? `${raw.slice(0, 157)}…` : raw;
  if (/unsupported image format/i.test(raw)) {
    return new UnprocessableMediaError('The file is not an image this service can read (unrecognised or damaged format).', 'undecodable');
  }
  if (/exceeds pixel limit/i.test(raw)) {
    return new UnprocessableMediaError('The image has too many pixels to process safely.', 'too_many_pixels');
  }
  if (/premature end|truncated|unexpected end|read error|not enough data|end of (file|stream)/i.test(raw)) {
    return new UnprocessableMediaError(`The image file is truncated or corrupt (${detail}). Upload the complete file again.`, 'truncated');
  }
  if (/^timeout/i.test(raw)) {
    return new UnprocessableMediaError('Decoding the image took too long and was stopped.', 'timeout');
  }
  return new UnprocessableMediaError(`The image could not be decoded (${detail}).`, 'undecodable');
}
