import { UnprocessableMediaError } from '@app/core';

/** Problems of this machine, not of the upload: the job should be retried, not failed for good. */
const ENVIRONMENT = /Input file is missing|out of memory|Cannot allocate memory|Too many open files|No space left on device/i;
const TRUNCATED = /premature end|truncated|unexpected end|read error|not enough data|end of (file|stream)/i;
/** What sharp and libvips put before the decoder's own words ("Input file has corrupt header: VipsJpeg: …"). */
const PREFIX = /^(Input (file|buffer) has corrupt header|Vips\w*|vips\w*|\w+load(_\w+)?|webp|tiff2vips|heif\w*)\s*:\s*/;
const MAX_DETAIL = 50;

/**
 * Turns a libvips/sharp error into an UnprocessableMediaError whose message a person can act on:
 * what is wrong, the decoder's own words in brackets (short, without libvips prefixes or paths),
 * what to do. Errors of the environment (missing temp file, memory) are returned as they are,
 * so the worker retries the job instead of blaming the file.
 */
export function describeImageError(error: unknown): Error {
  const raw = (error as Error | undefined)?.message ?? String(error);
  if (ENVIRONMENT.test(raw)) return error instanceof Error ? error : new Error(raw);
  if (/unsupported image format|Input buffer is empty/i.test(raw)) {
    return new UnprocessableMediaError('The file is not an image this service can read (unrecognised or damaged format).', 'undecodable');
  }
  if (/exceeds pixel limit/i.test(raw)) {
    return new UnprocessableMediaError('The image has too many pixels to process safely.', 'too_many_pixels');
  }
  if (/^timeout/i.test(raw)) {
    return new UnprocessableMediaError('Decoding the image took too long and was stopped.', 'timeout');
  }
  const detail = decoderDetail(raw);
  const said = detail ? ` (${detail})` : '';
  if (TRUNCATED.test(raw)) {
    return new UnprocessableMediaError(`The image file is incomplete or damaged${said}. Upload the complete file again.`, 'truncated');
  }
  return new UnprocessableMediaError(
    `The image file is damaged and could not be decoded${said}. Re-save it in an image editor and upload it again.`,
    'undecodable',
  );
}

/** The first line of a libvips error that says something, without its prefixes, at most MAX_DETAIL characters. */
function decoderDetail(raw: string): string {
  for (const line of raw.split('\n')) {
    let detail = line.trim();
    while (PREFIX.test(detail)) detail = detail.replace(PREFIX, '');
    detail = detail.replace(/[.\s]+$/, '');
    if (detail !== '') return detail.length > MAX_DETAIL ? `${detail.slice(0, MAX_DETAIL - 1)}…` : detail;
  }
  return '';
}
