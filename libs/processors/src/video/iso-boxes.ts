import { open } from 'node:fs/promises';

/** Boxes an MP4, MOV or 3GP file may start with (QuickTime files from before `ftyp` start with the others). */
const FIRST_BOXES = new Set(['ftyp', 'moov', 'mdat', 'free', 'skip', 'wide', 'pnot']);
/** Enough for any real file's top level (a fragmented MP4 has two boxes a fragment). */
const MAX_BOXES = 100_000;

/**
 * The type of the top-level box of an ISO BMFF file (MP4, MOV, 3GP) whose declared size runs past
 * the file's end: the file was cut short inside that box (an upload stopped inside the index that
 * a "faststart" file keeps first). Undefined when every box fits, or when the file does not start
 * like one of these (so nothing is said of files this cannot read).
 */
export async function boxCutShort(file: string): Promise<string | undefined> {
  const handle = await open(file, 'r');
  try {
    const size = (await handle.stat()).size;
    const header = Buffer.alloc(16);
    let at = 0;
    for (let count = 0; at < size && count < MAX_BOXES; count++) {
      const { bytesRead } = await handle.read(header, 0, 16, at);
      const type = header.toString('latin1', 4, 8);
      if (count === 0 && (bytesRead < 8 || !FIRST_BOXES.has(type))) return undefined;
      if (bytesRead < 8) return 'box header';
      const declared = header.readUInt32BE(0);
      if (declared === 0) return undefined; // to the end of the file
      const boxSize = declared === 1 ? (bytesRead < 16 ? Number.POSITIVE_INFINITY : Number(header.readBigUInt64BE(8))) : declared;
      if (boxSize < 8) return undefined; // damaged, not cut short
      if (at + boxSize > size) return type;
      at += boxSize;
    }
    return undefined;
  } finally {
    await handle.close();
  }
}
