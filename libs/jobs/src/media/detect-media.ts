import { ACCEPTED_MEDIA, AcceptedMedia, MediaKind, RejectionCode } from '@app/shared';

/** How many leading bytes `detectMedia` needs to decide. */
export const SNIFF_BYTES = 4100;

const MP4_BRANDS = new Set([
  'isom',
  'iso2',
  'iso3',
  'iso4',
  'iso5',
  'iso6',
  'iso7',
  'iso8',
  'iso9',
  'mp41',
  'mp42',
  'mp71',
  'avc1',
  'M4V ',
  'M4VH',
  'M4VP',
  'dash',
  'f4v ',
  'MSNV',
  'NDAS',
  'XAVC',
  'hvc1',
  'av01',
  'mmp4',
  'FACE',
]);
/** QuickTime files older than the ftyp box start with one of these atoms. */
const QUICKTIME_ATOMS = new Set(['moov', 'mdat', 'wide', 'free', 'skip', 'pnot']);

/** What the leading bytes say the file is: an accepted kind, or a description of what it is instead. */
export type Detection = { accepted: true; kind: MediaKind } | { accepted: false; description: string | null };

export function detectMedia(head: Buffer): Detection {
  const ascii = (start: number, end: number) => head.subarray(start, end).toString('latin1');
  const accept = (kind: MediaKind): Detection => ({ accepted: true, kind });
  const refuse = (description: string | null): Detection => ({ accepted: false, description });

  if (head.length >= 3 && head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff) return accept('jpeg');
  if (head.length >= 8 && head.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) return accept('png');
  if (ascii(0, 6) === 'GIF87a' || ascii(0, 6) === 'GIF89a') return accept('gif');
  if (ascii(0, 4) === 'RIFF' && ascii(8, 12) === 'WEBP') return accept('webp');
  if (ascii(0, 4) === 'RIFF' && ascii(8, 12) === 'AVI ') return accept('avi');
  if (ascii(4, 8) === 'ftyp') {
    const brand = ascii(8, 12);
    if (brand === 'qt  ') return accept('mov');
    if (MP4_BRANDS.has(brand)) return accept('mp4');
    if (['heic', 'heix', 'heim', 'heis', 'mif1', 'msf1', 'hevc', 'hevx'].includes(brand)) return refuse('a HEIC/HEIF image');
    if (brand === 'avif' || brand === 'avis') return refuse('an AVIF image');
    if (brand.startsWith('3g')) return refuse('a 3GP video');
    if (brand === 'crx ') return refuse('a Canon RAW image');
    // Some encoders write other brands; trust the compatible brands list when it names an MP4 one.
    const boxSize = head.readUInt32BE(0);
    for (let offset = 16; offset + 4 <= Math.min(boxSize, head.length); offset += 4) {
      const compatible = ascii(offset, offset + 4);
      if (compatible === 'qt  ') return accept('mov');
      if (MP4_BRANDS.has(compatible)) return accept('mp4');
    }
    return refuse(`an ISO media file of brand "${brand.trim()}"`);
  }
  if (head.length >= 8 && QUICKTIME_ATOMS.has(ascii(4, 8))) return accept('mov');
  if (head.length >= 4 && head.readUInt32BE(0) === 0x1a45dfa3) {
    const window = ascii(0, Math.min(head.length, 128));
    if (window.includes('webm')) return accept('webm');
    if (window.includes('matroska')) return refuse('a Matroska (.mkv) video');
    return refuse('an EBML file that is not WebM');
  }
  if (ascii(0, 5) === '%PDF-') return refuse('a PDF document');
  if (ascii(0, 2) === 'BM') return refuse('a BMP image');
  if (ascii(0, 4) === 'II*\0' || ascii(0, 4) === 'MM\0*') return refuse('a TIFF image');
  if (/^\s*(<\?xml[^>]*>\s*)?<svg[\s>]/i.test(ascii(0, 512))) return refuse('an SVG image');
  if (ascii(0, 4) === 'PK\x03\x04') return refuse('a ZIP archive');
  if (ascii(0, 4) === 'OggS') return refuse('an Ogg file');
  if (ascii(0, 3) === 'ID3' || (head[0] === 0xff && (head[1] & 0xe0) === 0xe0)) return refuse('an MP3 audio file');
  if (ascii(0, 4) === 'fLaC') return refuse('a FLAC audio file');
  if (ascii(0, 4) === 'RIFF' && ascii(8, 12) === 'WAVE') return refuse('a WAV audio file');
  if (head.length >= 4 && head.readUInt32BE(0) === 0x0000000c && ascii(4, 8) === 'jP  ') return refuse('a JPEG 2000 image');
  if (ascii(0, 4) === '\0\0\x01\0') return refuse('an icon file');
  return refuse(null);
}

/** Declared types that say nothing about the content. */
const GENERIC_TYPES = new Set(['', 'application/octet-stream', 'binary/octet-stream', 'application/unknown', 'application/x-download']);

/** Other names clients use for the same types. */
const MIME_ALIASES: Record<string, MediaKind[]> = {
  'image/jpg': ['jpeg'],
  'image/pjpeg': ['jpeg'],
  'image/x-png': ['png'],
  'video/x-m4v': ['mp4', 'mov'],
  'video/mp4': ['mp4', 'mov'],
  'video/quicktime': ['mov', 'mp4'],
  'video/avi': ['avi'],
  'video/msvideo': ['avi'],
  'video/x-msvideo': ['avi'],
  'video/vnd.avi': ['avi'],
  'audio/webm': ['webm'],
};

/** MP4 and QuickTime are the same container family; either extension fits either content. */
const EXTENSION_KINDS: Record<string, MediaKind[]> = Object.fromEntries(
  Object.values(ACCEPTED_MEDIA).flatMap((media) =>
    media.extensions.map((extension) => [extension, media.kind === 'mp4' || media.kind === 'mov' ? ['mp4', 'mov'] : [media.kind]]),
  ),
);

export type Classification = { accepted: true; media: AcceptedMedia } | { accepted: false; code: RejectionCode; message: string };

/**
 * Decides whether an uploaded file is accepted: by its content, then checked against its name's
 * extension and the type the client declared. Messages say what to do about a rejection.
 */
export function classifyUpload(file: { head: Buffer; filename: string; declaredType: string; size: number }): Classification {
  const name = `“${file.filename}”`;
  if (file.size === 0) return { accepted: false, code: 'empty', message: `${name} is empty (0 bytes).` };
  const detection = detectMedia(file.head);
  if (!detection.accepted) {
    const what = detection.description ? `is ${detection.description}, which is not supported` : 'is not a supported image or video';
    return {
      accepted: false,
      code: 'unsupported_type',
      message: `${name} ${what}. Upload JPEG, PNG, GIF or WebP images, or MP4, MOV, AVI or WebM videos.`,
    };
  }
  const media = ACCEPTED_MEDIA[detection.kind];
  const label = media.kind === 'jpeg' ? 'JPEG' : media.kind.toUpperCase();
  const extension = extensionOf(file.filename);
  if (extension !== '' && !(EXTENSION_KINDS[extension] ?? []).includes(media.kind)) {
    return {
      accepted: false,
      code: 'type_mismatch',
      message: `${name} contains ${label} data but is named ${extension}. Rename it to ${media.extensions[0]} if it really is ${label}.`,
    };
  }
  const declared = file.declaredType.split(';')[0].trim().toLowerCase();
  if (!GENERIC_TYPES.has(declared) && declared !== media.mimeType && !(MIME_ALIASES[declared] ?? []).includes(media.kind)) {
    return {
      accepted: false,
      code: 'type_mismatch',
      message: `${name} was sent as ${declared} but contains ${label} data.`,
    };
  }
  return { accepted: true, media };
}

/** Lower-case extension with its dot, or '' when the name has none. */
export function extensionOf(filename: string): string {
  const base = filename.split(/[\\/]/).pop() ?? '';
  const dot = base.lastIndexOf('.');
  return dot > 0 ? base.slice(dot).toLowerCase() : '';
}

/**
 * The name shown to the user: the client's basename, stripped of control characters and
 * path parts and capped in length. It is only ever data: files are stored under generated keys.
 */
export function sanitiseFilename(filename: string): string {
  const base = (filename.split(/[\\/]/).pop() ?? '')
    .normalize('NFC')
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, '')
    .trim();
  const name = base === '' || base === '.' || base === '..' ? 'file' : base;
  if (name.length <= 255) return name;
  const extension = extensionOf(name);
  return name.slice(0, 255 - extension.length) + extension;
}
