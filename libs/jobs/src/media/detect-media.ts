import { fileTypeFromBuffer } from 'file-type/core';
import { ACCEPTED_MEDIA, acceptedLabels, AcceptedMedia, MediaKind, RejectionCode } from '@app/shared';

/** How many leading bytes `detectMedia` needs to decide (file-type's own sample size). */
export const SNIFF_BYTES = 4100;

/** file-type's extension → the accepted kind it is. */
const KIND_BY_EXTENSION: Readonly<Record<string, MediaKind>> = {
  jpg: 'jpeg',
  png: 'png',
  apng: 'png',
  gif: 'gif',
  webp: 'webp',
  avif: 'avif',
  heic: 'heic',
  tif: 'tiff',
  bmp: 'bmp',
  mp4: 'mp4',
  m4v: 'mp4',
  mov: 'mov',
  avi: 'avi',
  webm: 'webm',
  mkv: 'mkv',
  mts: 'mpegts',
  '3gp': '3gp',
  '3g2': '3gp',
};

/** Words for what a refused file is, where file-type's extension alone would say little. */
const DESCRIPTIONS: Readonly<Record<string, string>> = {
  pdf: 'a PDF document',
  zip: 'a ZIP archive',
  mp3: 'an MP3 audio file',
  wav: 'a WAV audio file',
  flac: 'a FLAC audio file',
  ogg: 'an Ogg file',
  oga: 'an Ogg audio file',
  opus: 'an Opus audio file',
  m4a: 'an M4A audio file',
  mpg: 'an MPEG program stream (.mpg, .vob: convert it to MP4 or MPEG-TS)',
  jxl: 'a JPEG XL image',
  jp2: 'a JPEG 2000 image',
  ico: 'an icon file',
  cr2: 'a Canon RAW image',
  cr3: 'a Canon RAW image',
  nef: 'a Nikon RAW image',
  arw: 'a Sony RAW image',
  dng: 'a DNG RAW image',
  psd: 'a Photoshop document',
  exe: 'a Windows program',
  elf: 'a Linux program',
  gz: 'a gzip archive',
  '7z': 'a 7-Zip archive',
  rar: 'a RAR archive',
};

/** What the leading bytes say the file is: an accepted kind, or a description of what it is instead. */
export type Detection = { accepted: true; kind: MediaKind } | { accepted: false; description: string | null };

/**
 * What a file is, from its first bytes: file-type's signatures (hundreds of formats, so a refusal
 * can say what the file really is), with three refinements it lacks. An ISO file whose major brand
 * is the generic `mif1`/`msf1` but which lists `avif` is AVIF, not HEIC; a `BM` file is BMP only
 * when a real DIB header size follows (two letters alone start many text files); SVG is text,
 * which file-type does not read.
 */
export async function detectMedia(head: Buffer): Promise<Detection> {
  const refuse = (description: string | null): Detection => ({ accepted: false, description });
  if (isSvg(head)) return refuse('an SVG image');
  const found = head.length === 0 ? undefined : await fileTypeFromBuffer(head).catch(() => undefined);
  // Bytes cut from a transport stream can also begin like an MPEG audio frame (11 bits set).
  if ((!found || MPEG_AUDIO.has(found.ext)) && isTransportStream(head)) return { accepted: true, kind: 'mpegts' };
  if (!found) {
    // file-type reads past some signatures (a PNG's chunks) and gives up where they are damaged. A
    // file that starts with an accepted format's own signature is that format, damaged: it is taken,
    // and its job fails saying so, which tells the user more than "not a supported image".
    const damaged = signatureKind(head);
    return damaged ? { accepted: true, kind: damaged } : refuse(null);
  }
  let kind: MediaKind | undefined = KIND_BY_EXTENSION[found.ext];
  if (kind === 'heic' && listsBrand(head, ['avif', 'avis'])) kind = 'avif';
  if (kind === 'bmp' && !hasDibHeader(head)) return refuse(null);
  if (kind) return { accepted: true, kind };
  return refuse(DESCRIPTIONS[found.ext] ?? `a .${found.ext} file (${found.mime})`);
}

/**
 * SVG: XML whose first element is `<svg`, after what may come before it: a byte order mark, the XML
 * declaration, comments, processing instructions and a DOCTYPE (an internal subset included: where
 * XXE lives). Nothing of it is parsed, and the file is refused either way: this only names it.
 */
const SVG_PROLOGUE = /^(\xef\xbb\xbf)?\s*(<\?[\s\S]*?\?>\s*|<!--[\s\S]*?-->\s*|<!DOCTYPE[^[>]*(\[[\s\S]*?\])?\s*>\s*)*<svg[\s>/]/i;

function isSvg(head: Buffer): boolean {
  return SVG_PROLOGUE.test(head.subarray(0, 4096).toString('latin1'));
}

/** The signatures that alone say which accepted image a file is (the whole PNG signature, JPEG's SOI and marker, GIF's version, TIFF's byte order and magic number). */
const SIGNATURE_KINDS: readonly [Buffer, MediaKind][] = [
  [Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), 'png'],
  [Buffer.from([0xff, 0xd8, 0xff]), 'jpeg'],
  [Buffer.from('GIF87a', 'latin1'), 'gif'],
  [Buffer.from('GIF89a', 'latin1'), 'gif'],
  // TIFF and BigTIFF, either byte order. file-type follows the header to the first directory (to
  // tell a camera's RAW from a TIFF) and gives up when it lies past the bytes it was given, which
  // is where libtiff and libvips write it: after the pixels (a 300×300 uncompressed TIFF's is at
  // byte 270,008, and every TIFF over ≈ 4 KiB arriving by tus was refused).
  [Buffer.from('II*\0', 'latin1'), 'tiff'],
  [Buffer.from('MM\0*', 'latin1'), 'tiff'],
  [Buffer.from('II+\0', 'latin1'), 'tiff'],
  [Buffer.from('MM\0+', 'latin1'), 'tiff'],
];

function signatureKind(head: Buffer): MediaKind | undefined {
  return SIGNATURE_KINDS.find(([signature]) => head.subarray(0, signature.length).equals(signature))?.[1];
}

/** What file-type calls a file that starts with an MPEG audio frame header (a weak signature). */
const MPEG_AUDIO = new Set(['mp1', 'mp2', 'mp3', 'aac']);

/** MPEG-TS packet sizes: plain, with the 4-byte timecode of .m2ts/.mts, with 16 bytes of error correction. */
const TS_PACKETS = [188, 192, 204] as const;
/** Sync bytes in a row that make a transport stream (a chance of 256⁻¹⁶ for other bytes to look like one). */
const TS_SYNCS = 16;

/**
 * An MPEG transport stream that does not start on a packet boundary (a recording cut from a
 * broadcast or a camcorder's stream): its sync byte 0x47 every packet from some offset within the
 * first packet, TS_SYNCS times. file-type only looks at offset 0; ffmpeg finds the packets itself.
 */
function isTransportStream(head: Buffer): boolean {
  return TS_PACKETS.some((packet) => {
    if (head.length < packet * TS_SYNCS) return false;
    for (let start = 0; start < packet; start++) {
      let n = 0;
      let varied = false;
      while (n < TS_SYNCS && head[start + n * packet] === 0x47) {
        // A packet header goes on with its PID: a run of 0x47 ("GGGG…" text) is not one.
        varied ||= head[start + n * packet + 1] !== 0x47;
        n++;
      }
      if (n === TS_SYNCS && varied) return true;
    }
    return false;
  });
}

/** Whether an ISO BMFF `ftyp` box lists one of `brands` among its compatible brands. */
function listsBrand(head: Buffer, brands: readonly string[]): boolean {
  if (head.length < 16 || head.toString('latin1', 4, 8) !== 'ftyp') return false;
  const end = Math.min(head.readUInt32BE(0), head.length);
  for (let offset = 16; offset + 4 <= end; offset += 4) {
    if (brands.includes(head.toString('latin1', offset, offset + 4))) return true;
  }
  return false;
}

/** The sizes of the DIB headers BMP files use (core, V1–V5 and the OS/2 variants). */
const DIB_HEADER_SIZES = new Set([12, 16, 40, 52, 56, 64, 108, 124]);

function hasDibHeader(head: Buffer): boolean {
  return head.length >= 18 && DIB_HEADER_SIZES.has(head.readUInt32LE(14));
}

/** Declared types that say nothing about the content. */
const GENERIC_TYPES = new Set(['', 'application/octet-stream', 'binary/octet-stream', 'application/unknown', 'application/x-download']);

/** Other names clients use for accepted types (Windows sends .m2ts as video/vnd.dlna.mpeg-tts). */
const MIME_ALIASES: Readonly<Record<string, MediaKind>> = {
  'image/jpg': 'jpeg',
  'image/pjpeg': 'jpeg',
  'image/x-png': 'png',
  'image/apng': 'png',
  'image/heif': 'heic',
  'image/heic-sequence': 'heic',
  'image/heif-sequence': 'heic',
  'image/tif': 'tiff',
  'image/x-tiff': 'tiff',
  'image/x-bmp': 'bmp',
  'image/x-ms-bmp': 'bmp',
  'video/x-m4v': 'mp4',
  'video/avi': 'avi',
  'video/msvideo': 'avi',
  'video/vnd.avi': 'avi',
  'audio/webm': 'webm',
  'video/matroska': 'mkv',
  'video/mpeg': 'mpegts',
  'video/vnd.dlna.mpeg-tts': 'mpegts',
  'video/3gpp2': '3gp',
  'audio/3gpp': '3gp',
};

/** The accepted kind an extension or a declared type names, if any. */
const KIND_BY_NAME: ReadonlyMap<string, MediaKind> = new Map<string, MediaKind>([
  ...Object.values(ACCEPTED_MEDIA).flatMap((media) => [
    ...media.extensions.map((extension) => [extension, media.kind] as [string, MediaKind]),
    [media.mimeType, media.kind] as [string, MediaKind],
  ]),
  ...Object.entries(MIME_ALIASES),
]);

export type Classification = { accepted: true; media: AcceptedMedia } | { accepted: false; code: RejectionCode; message: string };

/**
 * Decides whether an uploaded file is accepted. The content decides what it is; the name's
 * extension and the declared type may name any accepted format of the same kind (a PNG named
 * .jpg is a PNG, decoded as one), but an image named or sent as a video (or the reverse), or a
 * name or type that is not media at all, is refused saying what the file really is.
 */
export async function classifyUpload(file: {
  head: Buffer;
  filename: string;
  declaredType: string;
  size: number;
}): Promise<Classification> {
  const name = `“${file.filename}”`;
  if (file.size === 0) return { accepted: false, code: 'empty', message: `${name} is empty (0 bytes).` };
  const detection = await detectMedia(file.head);
  if (!detection.accepted) {
    const what = detection.description ? `is ${detection.description}, which is not supported` : 'is not a supported image or video';
    return {
      accepted: false,
      code: 'unsupported_type',
      message: `${name} ${what}. Upload images (${acceptedLabels('image')}) or videos (${acceptedLabels('video')}).`,
    };
  }
  const media = ACCEPTED_MEDIA[detection.kind];
  const what = `${AN.has(media.label) ? 'an' : 'a'} ${media.label} ${media.fileType}`;
  const extension = extensionOf(file.filename);
  if (extension !== '' && !sameFileType(KIND_BY_NAME.get(extension), media)) {
    return {
      accepted: false,
      code: 'type_mismatch',
      message: `${name} is ${what} but is named ${extension}. Rename it to ${media.extensions[0]} if it really is ${media.label}.`,
    };
  }
  const declared = file.declaredType.split(';')[0].trim().toLowerCase();
  if (!GENERIC_TYPES.has(declared) && !sameFileType(KIND_BY_NAME.get(declared), media)) {
    return {
      accepted: false,
      code: 'type_mismatch',
      message: `${name} was sent as ${declared} but is ${what}.`,
    };
  }
  return { accepted: true, media };
}

/** Labels said with a vowel first ("an MP4 video"). */
const AN = new Set(['AVIF', 'AVI', 'MP4', 'MKV', 'MPEG-TS']);

/** Whether a name or declared type points to an accepted format of the same file type as the content. */
function sameFileType(named: MediaKind | undefined, media: AcceptedMedia): boolean {
  return named !== undefined && ACCEPTED_MEDIA[named].fileType === media.fileType;
}

/** Lower-case extension with its dot, or '' when the name has none. */
export function extensionOf(filename: string): string {
  const base = filename.split(/[\\/]/).pop() ?? '';
  const dot = base.lastIndexOf('.');
  return dot > 0 ? base.slice(dot).toLowerCase() : '';
}

/** Line breaks of any kind (U+2028/U+2029 break JavaScript strings and log lines) and tabs: a space each. */
const LINE_BREAKS = /[\t\n\v\f\r\u0085\u2028\u2029]/g;
/**
 * Invisible characters: other controls, and format characters (bidi overrides and isolates,
 * marks, zero-width spaces, the BOM, soft hyphens) except the joiners emoji and some scripts need.
 */
const INVISIBLE = /\p{Cc}|(?![\u200c\u200d])\p{Cf}/gu;

/**
 * The name shown to the user: the client's basename, with line breaks turned into spaces,
 * invisible and direction-changing characters removed, path parts dropped and the length capped.
 * It is only ever data: files are stored under generated keys.
 */
export function sanitiseFilename(filename: string): string {
  const base = (filename.split(/[\\/]/).pop() ?? '').normalize('NFC').replace(LINE_BREAKS, ' ').replace(INVISIBLE, '').trim();
  const name = orFile(base);
  if (name.length <= 255) return name;
  // The extension as written (lower-casing can change its length), when it is one: a "name" whose
  // last dot comes early is cut as a whole.
  const dot = name.lastIndexOf('.');
  const extension = dot > 0 && name.length - dot <= MAX_KEPT_EXTENSION ? name.slice(dot) : '';
  return orFile(truncate(name.slice(0, name.length - extension.length), 255 - extension.length).trimEnd() + extension);
}

/** "file" for a name that names nothing (empty, "." or ".."). */
function orFile(name: string): string {
  return name === '' || name === '.' || name === '..' ? 'file' : name;
}

/** The longest ending after a last dot kept whole when a long name is cut (".jpeg" is 5). */
const MAX_KEPT_EXTENSION = 16;

const GRAPHEMES = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

/**
 * `text` cut to at most `max` UTF-16 units between two characters as a person sees them, so that
 * no emoji or accented letter is split (a surrogate pair cut in half shows as "�"); by code
 * point when the first character alone is longer (a letter with hundreds of combining marks).
 */
function truncate(text: string, max: number): string {
  let out = '';
  for (const { segment } of GRAPHEMES.segment(text)) {
    if (out.length + segment.length > max) break;
    out += segment;
  }
  if (out !== '') return out;
  for (const point of text) {
    if (out.length + point.length > max) break;
    out += point;
  }
  return out;
}
