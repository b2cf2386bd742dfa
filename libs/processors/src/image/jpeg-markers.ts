import { open, type FileHandle } from 'node:fs/promises';

/** What a JPEG's frame header (SOFn) says: its marker (0xC0–0xCF) and sample precision in bits. */
export interface JpegFrame {
  marker: number;
  precision: number;
}

const SOI = 0xd8;
const SOS = 0xda;
const EOI = Buffer.from([0xff, 0xd9]);
const SCAN_CHUNK = 1024 * 1024;
/** Markers C0–CF that are not frame headers: DHT, JPG (reserved), DAC. */
const NOT_FRAMES = new Set([0xc4, 0xc8, 0xcc]);

/**
 * The kind of JPEG the decoder (libjpeg in sharp, 8-bit, DCT) cannot read, in words, from its frame
 * header: lossless (SOF3, 7, 11, 15: cameras' and medical imaging's), hierarchical (SOF5–7, 13–15)
 * or more than 8 bits a sample (12-bit from scanners and some cameras; ffmpeg's lossless RGB is 9).
 * Undefined for baseline and progressive 8-bit JPEGs, Huffman or arithmetic coded, which it reads.
 */
export function unreadableVariant(frame: JpegFrame): string | undefined {
  const process = frame.marker & 0x0f;
  if (process % 4 === 3) return 'lossless';
  if (process >= 5 && process <= 7) return 'hierarchical';
  if (process >= 13) return 'hierarchical';
  if (frame.precision !== 8) return `${frame.precision}-bit`;
  return undefined;
}

/**
 * How much of a file the segments before the scan are looked for in. Real headers (EXIF, ICC in
 * chunks, XMP, a motion photo's index) take well under 1 MiB; a hostile file of fill bytes or
 * tiny segments must not turn the walk into minutes of reads (it runs on error paths, in memory).
 */
const HEADER_BYTES = 16 * 1024 * 1024;

/** The frame header of a JPEG file; undefined when the file is not a JPEG or has none before its scan. */
export async function jpegFrame(file: string): Promise<JpegFrame | undefined> {
  return withFile(file, async (read) => {
    const header = await read(0, HEADER_BYTES);
    let found: JpegFrame | undefined;
    eachSegment(header, (marker, at) => {
      if (marker < 0xc0 || marker > 0xcf || NOT_FRAMES.has(marker)) return true;
      const precision = header[at + 4];
      if (precision !== undefined) found = { marker, precision };
      return false;
    });
    return found;
  });
}

/**
 * Whether a JPEG has an end marker (EOI) after the start of its first scan. The segments before the
 * scan are skipped by their lengths (an EXIF thumbnail has an EOI of its own inside APP1); after
 * it, FF D9 is always a marker (entropy-coded data stuffs every FF with 00, and restart markers are
 * D0–D7). Bytes after the EOI (a phone's motion photo appends its video) do not matter. The rest of
 * the file is searched a megabyte at a time (at most MAX_UPLOAD_BYTES of it).
 */
export async function jpegReachesEnd(file: string): Promise<boolean> {
  return withFile(file, async (read, size) => {
    const scan = eachSegment(await read(0, HEADER_BYTES), () => true);
    if (scan === undefined) return false;
    let previous = 0;
    for (let position = scan; position < size; position += SCAN_CHUNK) {
      const chunk = await read(position, SCAN_CHUNK);
      if ((previous === 0xff && chunk[0] === 0xd9) || chunk.includes(EOI)) return true;
      previous = chunk[chunk.length - 1] ?? 0;
    }
    return false;
  });
}

type Reader = (position: number, count: number) => Promise<Buffer>;

async function withFile<T>(file: string, use: (read: Reader, size: number) => Promise<T>): Promise<T> {
  const handle: FileHandle = await open(file, 'r');
  try {
    const size = (await handle.stat()).size;
    const read: Reader = async (position, count) => {
      const buffer = Buffer.alloc(Math.max(0, Math.min(count, size - position)));
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, position);
      return buffer.subarray(0, bytesRead);
    };
    return await use(read, size);
  } finally {
    await handle.close();
  }
}

/**
 * Walks the marker segments after SOI in `data` (the start of the file), by their lengths, calling
 * `visit` with each marker and its offset until it returns false. Returns the offset of the first
 * scan (SOS), or undefined when the file is not a JPEG, `visit` stopped, or no scan starts within
 * `data`. In memory: a run of fill bytes is skipped in one step.
 */
function eachSegment(data: Buffer, visit: (marker: number, at: number) => boolean): number | undefined {
  if (data[0] !== 0xff || data[1] !== SOI) return undefined;
  let at = 2;
  while (at + 1 < data.length) {
    if (data[at] !== 0xff) return undefined;
    if (data[at + 1] === 0xff) {
      // Fill bytes: go to the last 0xFF of the run, which starts the marker.
      let end = at + 1;
      while (end + 1 < data.length && data[end + 1] === 0xff) end += 1;
      at = end;
      if (at + 1 >= data.length) return undefined;
      continue;
    }
    const marker = data[at + 1];
    if (marker === SOS) return at;
    if (at + 4 > data.length || !visit(marker, at)) return undefined;
    at += 2 + data.readUInt16BE(at + 2);
  }
  return undefined;
}
