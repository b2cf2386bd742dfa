import { UnprocessableMediaError } from '@app/core';

const MAX_DETAIL = 160;

/** What ffmpeg says when a file stops before the data its index points to. */
const TRUNCATION = /partial file|unexpected end of file|premature end/i;
/** What ffmpeg says when an MP4/MOV ends before its index (the moov atom) was written. */
const MOOV_MISSING = /moov atom not found/i;

/** Whether ffmpeg's stderr reports a file cut short (it may still exit 0, having found no frame). */
export function reportsTruncation(stderr: string): boolean {
  return TRUNCATION.test(stderr) || MOOV_MISSING.test(stderr);
}

/**
 * ffmpeg's and ffprobe's stderr → the lines worth showing a person: without the file's path on
 * this server, without "[mov,mp4,… @ 0x55…]" component prefixes, without empty or repeated lines.
 */
export function stderrLines(stderr: string, file?: string): string[] {
  const seen = new Set<string>();
  const lines: string[] = [];
  for (const raw of stderr.split(/\r?\n/)) {
    let line = raw;
    if (file) line = line.split(file).join('');
    line = line
      .replace(/\[[^\]]*@ ?0x[0-9a-f]+\]\s*/gi, '')
      .replace(/^\s*:\s*/, '')
      .trim();
    if (line === '' || seen.has(line)) continue;
    seen.add(line);
    lines.push(line);
  }
  return lines;
}

interface Rule {
  test: RegExp;
  reason: string;
  message: (detail: string, match: RegExpExecArray) => string;
}

/** First rule matching any line wins; order is from most to least specific. */
const RULES: readonly Rule[] = [
  {
    test: MOOV_MISSING,
    reason: 'truncated',
    message: () =>
      'The video could not be decoded: moov atom not found (the file is truncated or not finished uploading). Upload the complete file again.',
  },
  {
    test: TRUNCATION,
    reason: 'truncated',
    message: (detail) => `The video file is truncated: it ends before its data does (${detail}). Upload the complete file again.`,
  },
  {
    test: /format not on whitelist/i,
    reason: 'undecodable',
    message: () => 'The file is not a video this service can read (MP4, MOV, AVI, WebM, MKV, MPEG-TS or 3GP).',
  },
  {
    test: /decoder \(codec (\S+)\) not found|unsupported codec with id \d+ for input stream \d+|codec (\S+) is not supported/i,
    reason: 'unsupported_codec',
    message: (_detail, match) => {
      const codec = match[1] ?? match[2];
      return codec && codec !== 'none'
        ? `The video uses the ${codec} codec, which this server's ffmpeg cannot decode.`
        : "The video uses a codec this server's ffmpeg cannot decode.";
    },
  },
  {
    test: /invalid data found|ebml header parsing failed|invalid as first byte of an ebml number|could not find codec parameters|no frame|error splitting the input|invalid nal|header damaged|missing picture/i,
    reason: 'undecodable',
    message: (detail) => `The video could not be decoded: ${detail} (the file is damaged or not a video).`,
  },
];

/** A failed ffprobe/ffmpeg run → a permanent job failure whose message a person can act on. */
export function describeVideoFailure(stderr: string, file?: string): UnprocessableMediaError {
  const lines = stderrLines(stderr, file);
  for (const rule of RULES) {
    for (const line of lines) {
      const match = rule.test.exec(line);
      if (match) return new UnprocessableMediaError(rule.message(detailOf(line), match), rule.reason);
    }
  }
  const detail = lines.length > 0 ? detailOf(lines[0]) : 'ffmpeg stopped without saying why';
  return new UnprocessableMediaError(`The video could not be decoded: ${detail}.`, 'undecodable');
}

/** One stderr line as a clause: lower-case start, no trailing period, at most MAX_DETAIL characters. */
function detailOf(line: string): string {
  let detail = line.replace(/[.\s]+$/, '');
  if (/^[A-Z][a-z]/.test(detail)) detail = detail[0].toLowerCase() + detail.slice(1);
  return detail.length > MAX_DETAIL ? `${detail.slice(0, MAX_DETAIL - 1)}…` : detail;
}
