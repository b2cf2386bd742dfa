import { UnprocessableMediaError } from '@app/core';

/** Problems of this machine, not of the upload: the job should be retried, not failed for good. */
const ENVIRONMENT = /Input file is missing|out of memory|Cannot allocate memory|Too many open files|No space left on device/i;
const TRUNCATED = /premature end|truncated|unexpected end|read error|not enough data|end of (file|stream)/i;
/** What sharp and libvips put before the decoder's own words ("Input file has corrupt header: VipsJpeg: …"). */
const PREFIX = /^(Input (file|buffer) has corrupt header|Vips\w*|vips\w*|\w+load(_\w+)?|webp|tiff2vips|heif\w*)\s*:\s*/;
const MAX_DETAIL = 50;
/** What a line of a libvips error starts with when it names the input: its path on this server, or "source". */
const INPUT_NAME = /^\s*(source|(?:[A-Za-z]:)?[\\/][^\n]*?)\s*:\s+/;
/** Any absolute path left in a line (POSIX or Windows). */
const ANY_PATH = /(?:[A-Za-z]:)?(?:[\\/][^\\/\s:()]+){2,}[\\/]?/g;
/** Lines that say nothing to a person: libheif's probing ("bad seek to 1024"), sharp's placeholder, libheif's error codes. */
const NOISE = /^(bad seek to \d+|unknown error)$/i;

/**
 * Turns a libvips/sharp error into an UnprocessableMediaError whose message a person can act on:
 * what is wrong, the decoder's own words in brackets (short, without libvips prefixes or paths),
 * what to do. Errors of the environment (missing temp file, memory) are returned as they are,
 * so the worker retries the job instead of blaming the file. `complete`: the file is known to
 * reach its end, so words of running out of data ("premature end of data segment") mean damaged
 * data, not an upload cut short.
 */
export function describeImageError(error: unknown, { complete = false } = {}): Error {
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
  if (TRUNCATED.test(raw) && !complete) {
    return new UnprocessableMediaError(`The image file is incomplete or damaged${said}. Upload the complete file again.`, 'truncated');
  }
  return new UnprocessableMediaError(
    `The image file is damaged and could not be decoded${said}. Re-save it in an image editor and upload it again.`,
    'undecodable',
  );
}

/**
 * The first line of a libvips error that says something, without its prefixes, at most MAX_DETAIL
 * characters, and never a path: libvips names the input by its path on this server, and its error
 * buffer is shared by every image the process decodes, so a line may even be another job's.
 */
function decoderDetail(raw: string): string {
  for (const line of raw.split('\n')) {
    // "Input buffer has corrupt header: source: bad seek to 1024": the input's name may follow a prefix.
    let detail = line.trim().replace(INPUT_NAME, '');
    while (PREFIX.test(detail)) detail = detail.replace(PREFIX, '').replace(INPUT_NAME, '');
    detail = detail
      .replace(ANY_PATH, '')
      .replace(/\s*\(\d+\.\d+\)$/, '')
      .replace(/^[\s:]+|[.\s:]+$/g, '');
    if (detail !== '' && !NOISE.test(detail)) return detail.length > MAX_DETAIL ? `${detail.slice(0, MAX_DETAIL - 1).trimEnd()}…` : detail;
  }
  return '';
}
