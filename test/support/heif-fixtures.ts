/**
 * Byte surgery on HEIF files (HEIC, AVIF) as heif-enc writes them: adding the `irot`/`imir`
 * transformations a phone writes, which heif-enc 1.15 does not. A property box is appended to
 * `ipco`, associated (essential) with the primary item in `ipma`, the sizes of the enclosing boxes
 * grow, and file-offset extents in `iloc` move by the bytes inserted before `mdat`.
 */

interface Box {
  type: string;
  start: number;
  size: number;
  /** Offset of the payload (after the header, and after version+flags for full boxes). */
  body: number;
}

const FULL_BOXES = new Set(['meta', 'pitm', 'iloc', 'ipma', 'iinf', 'hdlr', 'iref']);

function children(data: Buffer, start: number, end: number): Box[] {
  const boxes: Box[] = [];
  let at = start;
  while (at + 8 <= end) {
    const size = data.readUInt32BE(at);
    const type = data.toString('latin1', at + 4, at + 8);
    if (size < 8) break;
    boxes.push({ type, start: at, size, body: at + 8 + (FULL_BOXES.has(type) ? 4 : 0) });
    at += size;
  }
  return boxes;
}

function child(data: Buffer, parent: Box, type: string): Box {
  const found = children(data, parent.body, parent.start + parent.size).find((box) => box.type === type);
  if (!found) throw new Error(`no ${type} in ${parent.type}`);
  return found;
}

function readUint(data: Buffer, at: number, bytes: number): number {
  return bytes === 0 ? 0 : bytes === 2 ? data.readUInt16BE(at) : bytes === 4 ? data.readUInt32BE(at) : Number(data.readBigUInt64BE(at));
}

function writeUint(data: Buffer, at: number, bytes: number, value: number): void {
  if (bytes === 2) data.writeUInt16BE(value, at);
  else if (bytes === 4) data.writeUInt32BE(value, at);
  else if (bytes === 8) data.writeBigUInt64BE(BigInt(value), at);
}

export interface HeifTransforms {
  /** irot: quarter turns anti-clockwise (1 = 90°). */
  rotateCcw?: 1 | 2 | 3;
  /** imir: mirror axis as the box stores it (0 or 1). */
  mirrorAxis?: 0 | 1;
}

/** `heif` with irot and/or imir on its primary item (irot first, then imir, in ipma order). */
export function withHeifTransforms(heif: Buffer, transforms: HeifTransforms): Buffer {
  let data: Buffer = Buffer.from(heif);
  if (transforms.rotateCcw !== undefined) data = addProperty(data, 'irot', transforms.rotateCcw & 3);
  if (transforms.mirrorAxis !== undefined) data = addProperty(data, 'imir', transforms.mirrorAxis & 1);
  return data;
}

function addProperty(data: Buffer, type: 'irot' | 'imir', value: number): Buffer {
  const meta = children(data, 0, data.length).find((box) => box.type === 'meta');
  if (!meta) throw new Error('no meta box');
  const pitm = child(data, meta, 'pitm');
  const primary = data[pitm.body - 4] === 0 ? data.readUInt16BE(pitm.body) : data.readUInt32BE(pitm.body);
  const iprp = child(data, meta, 'iprp');
  const ipco = child(data, { ...iprp, body: iprp.start + 8 }, 'ipco');
  const ipma = child(data, { ...iprp, body: iprp.start + 8 }, 'ipma');
  const propertyIndex = children(data, ipco.start + 8, ipco.start + ipco.size).length + 1;

  // Where the new association goes: after the primary item's existing ones.
  const version = data[ipma.start + 8];
  const wide = (data.readUInt32BE(ipma.start + 8) & 1) === 1;
  let at = ipma.body;
  const count = data.readUInt32BE(at);
  at += 4;
  let insertAt = -1;
  let countAt = -1;
  for (let i = 0; i < count; i++) {
    const id = version < 1 ? data.readUInt16BE(at) : data.readUInt32BE(at);
    at += version < 1 ? 2 : 4;
    const associations = data[at];
    if (id === primary) countAt = at;
    at += 1 + associations * (wide ? 2 : 1);
    if (id === primary) insertAt = at;
  }
  if (insertAt < 0) throw new Error(`item ${primary} has no ipma entry`);
  const association = wide ? Buffer.from([0x80 | (propertyIndex >> 8), propertyIndex & 0xff]) : Buffer.from([0x80 | propertyIndex]);
  const property = Buffer.concat([Buffer.from([0, 0, 0, 9]), Buffer.from(type, 'latin1'), Buffer.from([value])]);
  const grown = property.length + association.length;

  const ipcoEnd = ipco.start + ipco.size;
  const out = Buffer.concat([data.subarray(0, ipcoEnd), property, data.subarray(ipcoEnd, insertAt), association, data.subarray(insertAt)]);
  // Offsets in `out`: everything after ipco's end moved by property.length.
  out[countAt + property.length] += 1;
  out.writeUInt32BE(ipco.size + property.length, ipco.start);
  out.writeUInt32BE(ipma.size + association.length, ipma.start + property.length);
  out.writeUInt32BE(iprp.size + grown, iprp.start);
  out.writeUInt32BE(meta.size + grown, meta.start);
  shiftFileOffsets(out, meta, grown);
  return out;
}

/** Moves every file-offset extent in iloc (construction method 0) by `delta` (iloc precedes iprp in heif-enc's files). */
function shiftFileOffsets(data: Buffer, meta: Box, delta: number): void {
  const iloc = children(data, meta.body, meta.start + meta.size + delta).find((box) => box.type === 'iloc');
  if (!iloc) throw new Error('no iloc box');
  const version = data[iloc.start + 8];
  let at = iloc.body;
  const offsetSize = data[at] >> 4;
  const lengthSize = data[at] & 15;
  const baseOffsetSize = data[at + 1] >> 4;
  const indexSize = version >= 1 ? data[at + 1] & 15 : 0;
  at += 2;
  const itemCount = version < 2 ? data.readUInt16BE(at) : data.readUInt32BE(at);
  at += version < 2 ? 2 : 4;
  for (let i = 0; i < itemCount; i++) {
    at += version < 2 ? 2 : 4;
    let method = 0;
    if (version >= 1) {
      method = data.readUInt16BE(at) & 15;
      at += 2;
    }
    at += 2; // data_reference_index
    const baseAt = at;
    const base = readUint(data, at, baseOffsetSize);
    at += baseOffsetSize;
    const extents = data.readUInt16BE(at);
    at += 2;
    if (method === 0 && baseOffsetSize > 0) writeUint(data, baseAt, baseOffsetSize, base + delta);
    for (let e = 0; e < extents; e++) {
      at += indexSize;
      if (method === 0 && baseOffsetSize === 0) writeUint(data, at, offsetSize, readUint(data, at, offsetSize) + delta);
      at += offsetSize + lengthSize;
    }
  }
}
