import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { crc32, deflateSync } from 'node:zlib';
import sharp, { type Sharp } from 'sharp';

/**
 * Images for tests, generated on the fly with sharp or byte surgery: nothing binary is committed.
 * Pixels are painted in plain JS so the expected picture never depends on the code under test.
 */

export type Rgb = readonly [number, number, number];
export type Channels = 1 | 2 | 3 | 4;
export type RasterFormat = 'jpeg' | 'png' | 'gif' | 'webp';
export const RASTER_FORMATS: readonly RasterFormat[] = ['jpeg', 'png', 'gif', 'webp'];

/** 8-bit samples, interleaved: grey, grey+alpha, RGB or RGBA. */
export interface RawImage {
  readonly width: number;
  readonly height: number;
  readonly channels: Channels;
  readonly data: Buffer;
}

export interface Rect {
  left: number;
  top: number;
  width: number;
  height: number;
}

// ── Painting ─────────────────────────────────────────────────────────────────────────────────

/** A picture of one colour; `colour` is grey for 1–2 channels (its red is used), opaque where there is alpha. */
export function rawImage(width: number, height: number, channels: Channels, colour: Rgb): RawImage {
  const image: RawImage = { width, height, channels, data: Buffer.alloc(width * height * channels) };
  fillRect(image, { left: 0, top: 0, width, height }, colour);
  return image;
}

/** Paints a rectangle (clipped to the image); `alpha` 0–255 where the image has an alpha channel. */
export function fillRect(image: RawImage, rect: Rect, colour: Rgb, alpha = 255): void {
  const left = Math.max(0, Math.floor(rect.left));
  const top = Math.max(0, Math.floor(rect.top));
  const right = Math.min(image.width, Math.floor(rect.left + rect.width));
  const bottom = Math.min(image.height, Math.floor(rect.top + rect.height));
  if (right <= left || bottom <= top) return;
  const sample = pixelSamples(image.channels, colour, alpha);
  const row = Buffer.alloc((right - left) * image.channels);
  for (let x = 0; x < right - left; x++) sample.copy(row, x * image.channels);
  for (let y = top; y < bottom; y++) row.copy(image.data, (y * image.width + left) * image.channels);
}

function pixelSamples(channels: Channels, [r, g, b]: Rgb, alpha: number): Buffer {
  switch (channels) {
    case 1:
      return Buffer.from([r]);
    case 2:
      return Buffer.from([r, alpha]);
    case 3:
      return Buffer.from([r, g, b]);
    case 4:
      return Buffer.from([r, g, b, alpha]);
  }
}

/** Four quadrants: top-left, top-right, bottom-left, bottom-right. */
export function quadrants(width: number, height: number, [tl, tr, bl, br]: readonly [Rgb, Rgb, Rgb, Rgb]): RawImage {
  const image = rawImage(width, height, 3, tl);
  const midX = Math.floor(width / 2);
  const midY = Math.floor(height / 2);
  fillRect(image, { left: midX, top: 0, width: width - midX, height: midY }, tr);
  fillRect(image, { left: 0, top: midY, width: midX, height: height - midY }, bl);
  fillRect(image, { left: midX, top: midY, width: width - midX, height: height - midY }, br);
  return image;
}

/** A sharp pipeline over raw pixels; 1–2 channel images stay greyscale when encoded. */
export function toSharp(image: RawImage): Sharp {
  const pipeline = sharp(image.data, { raw: { width: image.width, height: image.height, channels: image.channels } });
  return image.channels <= 2 ? pipeline.toColourspace('b-w') : pipeline;
}

export interface EncodeOptions {
  /** JPEG only: progressive scan. */
  progressive?: boolean;
}

/** Near-lossless settings so colours survive encoding; GIF is palette-based, WebP has no greyscale mode. */
export function encode(image: RawImage | Sharp, format: RasterFormat, options: EncodeOptions = {}): Promise<Buffer> {
  const pipeline = 'data' in image ? toSharp(image) : image;
  switch (format) {
    case 'jpeg':
      return pipeline.jpeg({ quality: 95, chromaSubsampling: '4:4:4', progressive: options.progressive ?? false }).toBuffer();
    case 'png':
      return pipeline.png().toBuffer();
    case 'gif':
      return pipeline.gif({ dither: 0 }).toBuffer();
    case 'webp':
      return pipeline.webp({ quality: 95 }).toBuffer();
  }
}

/** An animation of solid frames (first colour first), `width`×`height` each. */
export async function animation(format: 'gif' | 'webp', colours: readonly Rgb[], width: number, height: number): Promise<Buffer> {
  const frames = await Promise.all(
    colours.map((colour) =>
      toSharp(rawImage(width, height, 3, colour))
        .png()
        .toBuffer(),
    ),
  );
  const pipeline = sharp(frames, { join: { animated: true } });
  const delay = colours.map(() => 100);
  return format === 'gif'
    ? pipeline.gif({ loop: 0, delay, dither: 0 }).toBuffer()
    : pipeline.webp({ loop: 0, delay, lossless: true }).toBuffer();
}

// ── Cover crop target (Property 17) ──────────────────────────────────────────────────────────

/**
 * Colours of {@link coverTarget}: `cut` fills what a centre cover crop must remove; the kept centre
 * square has a frame a quarter of its side thick (`longFrame` at the ends of the long axis,
 * `shortFrame` at the ends of the short one) around `centre`.
 */
export interface CoverPalette {
  cut: Rgb;
  longFrame: Rgb;
  shortFrame: Rgb;
  centre: Rgb;
}

/** Chosen so a blend of two neighbouring areas (a blurred boundary) is never nearest to a third colour. */
export const COVER_COLOURS: CoverPalette = { cut: [220, 0, 0], longFrame: [255, 200, 0], shortFrame: [60, 60, 255], centre: [0, 170, 0] };
/** For 1–2 channel images: grey levels ordered cut < longFrame < centre < shortFrame, none white or black. */
export const COVER_GREYS: CoverPalette = {
  cut: [20, 20, 20],
  longFrame: [85, 85, 85],
  shortFrame: [215, 215, 215],
  centre: [150, 150, 150],
};

export function coverPalette(channels: Channels): CoverPalette {
  return channels <= 2 ? COVER_GREYS : COVER_COLOURS;
}

/**
 * An image whose centre cover crop, scaled to S×S, is exactly: a frame S/4 thick (`longFrame` on the
 * two sides along the source's long axis, `shortFrame` on the other two) around `centre`, with no
 * `cut` anywhere. `fill` squeezes `cut` in at the long ends; `contain` pads the short ends;
 * an off-centre or over-tight crop changes the frame's thickness.
 */
export function coverTarget(width: number, height: number, channels: Channels): RawImage {
  const palette = coverPalette(channels);
  const image = rawImage(width, height, channels, palette.cut);
  const side = Math.min(width, height);
  const landscape = width >= height;
  const start = Math.floor(((landscape ? width : height) - side) / 2);
  const square = landscape ? { left: start, top: 0, width: side, height: side } : { left: 0, top: start, width: side, height: side };
  const band = side / 4;
  fillRect(image, square, palette.centre);
  // Long-axis ends of the square (its left and right sides when landscape).
  const longEnds: Rect[] = landscape
    ? [
        { ...square, width: band },
        { ...square, left: square.left + side - band, width: band },
      ]
    : [
        { ...square, height: band },
        { ...square, top: square.top + side - band, height: band },
      ];
  const shortEnds: Rect[] = landscape
    ? [
        { ...square, left: square.left + band, width: side - 2 * band, height: band },
        { ...square, left: square.left + band, top: side - band, width: side - 2 * band, height: band },
      ]
    : [
        { ...square, top: square.top + band, height: side - 2 * band, width: band },
        { ...square, top: square.top + band, left: side - band, height: side - 2 * band, width: band },
      ];
  for (const rect of longEnds) fillRect(image, rect, palette.longFrame);
  for (const rect of shortEnds) fillRect(image, rect, palette.shortFrame);
  return image;
}

/**
 * What is wrong with `thumbnail` as the centre cover crop of `coverTarget(source…)`: an empty list
 * when right. Reads the middle row and column: along the long axis no `cut` colour (beyond the
 * resampling blur at the very ends), a `longFrame` band S/4 thick at both ends; along the short axis
 * a `shortFrame` band S/4 thick at both ends; `centre` in the middle.
 */
export async function coverProblems(thumbnail: Buffer, source: { width: number; height: number; channels: Channels }): Promise<string[]> {
  const pixels = await readPixels(thumbnail);
  const size = pixels.width;
  const palette = coverPalette(source.channels);
  const names = ['cut', 'longFrame', 'shortFrame', 'centre', 'white', 'black'] as const;
  const references: Rgb[] = [palette.cut, palette.longFrame, palette.shortFrame, palette.centre, [255, 255, 255], [0, 0, 0]];
  const landscape = source.width >= source.height;
  const side = Math.min(source.width, source.height);
  const classify = (along: number, across: number, longAxis: boolean): (typeof names)[number] => {
    // `along` runs on the named axis of the thumbnail, `across` on the other.
    const horizontal = longAxis === landscape;
    const rgb = horizontal ? pixels.at(along, across) : pixels.at(across, along);
    return names[nearest(rgb, references)];
  };
  // Resampling blurs a boundary over a few output pixels, more when upscaling (source pixels grow):
  // up to two source pixels at each end of the long axis, one for the centre's rounding when the
  // excess is odd (either half is centred) and one for the kernel's reach plus a lossy codec's bleed
  // (a 32×3997 WebP's row next to the cut reads 255,183,33; 8× up, pixel 245 of 256 was nearer `cut`).
  const blur = 2 + 2 * Math.ceil(size / side);
  const tolerance = 2 + Math.ceil(size / side) + Math.ceil(size / 64);
  const problems: string[] = [];
  const middle = Math.floor(size / 2);
  const centreClass = classify(middle, middle, true);
  if (centreClass !== 'centre') problems.push(`the middle pixel is ${centreClass}, not centre`);
  for (const [longAxis, frame] of [
    [true, 'longFrame'],
    [false, 'shortFrame'],
  ] as const) {
    const axis = longAxis ? 'long' : 'short';
    const line = Array.from({ length: size }, (_, i) => classify(i, middle, longAxis));
    const foreign = line.findIndex((name, i) => i >= blur && i < size - blur && name !== frame && name !== 'centre');
    if (foreign >= 0) problems.push(`${line[foreign]} at ${foreign} on the ${axis} axis`);
    const first = line.indexOf('centre');
    const last = line.lastIndexOf('centre');
    const expected = size / 4;
    if (first < 0) continue;
    const startBand = first;
    const endBand = size - 1 - last;
    if (Math.abs(startBand - expected) > tolerance || Math.abs(endBand - expected) > tolerance) {
      problems.push(
        `${frame} bands are ${startBand} and ${endBand} px on the ${axis} axis, expected ${expected.toFixed(1)} ± ${tolerance}`,
      );
    }
  }
  return problems;
}

// ── EXIF orientation ─────────────────────────────────────────────────────────────────────────

export const ORIENTATIONS = [1, 2, 3, 4, 5, 6, 7, 8] as const;
export type Orientation = (typeof ORIENTATIONS)[number];

/**
 * The pixels a camera stores for an `upright` picture together with EXIF Orientation `orientation`:
 * the tag says how to transform the stored pixels for display, so this applies the inverse.
 * displayed(x, y) = stored(sx, sy), per the EXIF 2.3 / TIFF 6 definitions of the eight values.
 */
export function storedForOrientation(upright: RawImage, orientation: Orientation): RawImage {
  const { width: w, height: h, channels } = upright;
  const swap = orientation >= 5;
  const stored: RawImage = { width: swap ? h : w, height: swap ? w : h, channels, data: Buffer.alloc(upright.data.length) };
  const source: Record<Orientation, (x: number, y: number) => [number, number]> = {
    1: (x, y) => [x, y],
    2: (x, y) => [w - 1 - x, y],
    3: (x, y) => [w - 1 - x, h - 1 - y],
    4: (x, y) => [x, h - 1 - y],
    5: (x, y) => [y, x],
    6: (x, y) => [y, w - 1 - x],
    7: (x, y) => [h - 1 - y, w - 1 - x],
    8: (x, y) => [h - 1 - y, x],
  };
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const [sx, sy] = source[orientation](x, y);
      upright.data.copy(stored.data, (sy * stored.width + sx) * channels, (y * w + x) * channels, (y * w + x + 1) * channels);
    }
  }
  return stored;
}

/** A JPEG storing `upright` as a camera would with EXIF Orientation `orientation`. */
export function orientedJpeg(upright: RawImage, orientation: Orientation): Promise<Buffer> {
  return toSharp(storedForOrientation(upright, orientation))
    .jpeg({ quality: 95, chromaSubsampling: '4:4:4' })
    .withMetadata({ orientation })
    .toBuffer();
}

// ── Colour ───────────────────────────────────────────────────────────────────────────────────

/** One of libvips' built-in ICC profiles (`p3`, `cmyk`, `srgb`), as bytes. */
export async function builtinIccProfile(name: 'p3' | 'cmyk' | 'srgb'): Promise<Buffer> {
  const tagged = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#808080' } })
    .withIccProfile(name)
    .jpeg()
    .toBuffer();
  const { icc } = await sharp(tagged).metadata();
  if (!icc) throw new Error(`sharp attached no ${name} profile`);
  return icc;
}

/**
 * Display P3 (D65, sRGB transfer curve) → sRGB, colorimetric, clipped: the reference a colour-managed
 * viewer shows, computed without lcms. Matrix: linear P3 → XYZ → linear sRGB.
 */
export function displayP3ToSrgb(rgb: Rgb): Rgb {
  const m = [
    [1.2249401, -0.2249404, 0],
    [-0.0420569, 1.0420571, 0],
    [-0.0196376, -0.0786361, 1.0982735],
  ];
  const linear = rgb.map((v) => srgbToLinear(v / 255));
  const [r, g, b] = m.map((row) => Math.round(255 * linearToSrgb(row[0] * linear[0] + row[1] * linear[1] + row[2] * linear[2])));
  return [r, g, b];
}

function srgbToLinear(v: number): number {
  return v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
}

function linearToSrgb(v: number): number {
  const c = Math.min(1, Math.max(0, v));
  return c <= 0.0031308 ? c * 12.92 : 1.055 * c ** (1 / 2.4) - 0.055;
}

/** Largest per-channel difference. */
export function colourDistance(a: readonly number[], b: readonly number[]): number {
  return Math.max(...a.map((v, i) => Math.abs(v - (b[i] ?? 0))));
}

function nearest(rgb: readonly number[], references: readonly Rgb[]): number {
  let best = 0;
  let bestDistance = Infinity;
  references.forEach((reference, i) => {
    const distance = reference.reduce((sum, v, c) => sum + (v - rgb[c]) ** 2, 0);
    if (distance < bestDistance) {
      bestDistance = distance;
      best = i;
    }
  });
  return best;
}

// ── Reading pixels ───────────────────────────────────────────────────────────────────────────

export interface Pixels {
  width: number;
  height: number;
  channels: number;
  data: Buffer;
  /** Samples of the pixel at (x, y). */
  at(x: number, y: number): number[];
  /** Mean of each channel over a square of `radius` around (x, y). */
  mean(x: number, y: number, radius?: number): number[];
}

/** Decodes an encoded image as it is stored (no colour conversion of its own beyond sharp's default). */
export async function readPixels(encoded: Buffer): Promise<Pixels> {
  const { data, info } = await sharp(encoded).raw().toBuffer({ resolveWithObject: true });
  const { width, height, channels } = info;
  const at = (x: number, y: number): number[] => {
    const offset = (Math.round(y) * width + Math.round(x)) * channels;
    return [...data.subarray(offset, offset + channels)];
  };
  const mean = (x: number, y: number, radius = 2): number[] => {
    const sums = new Array<number>(channels).fill(0);
    let count = 0;
    for (let dy = -radius; dy <= radius; dy++) {
      for (let dx = -radius; dx <= radius; dx++) {
        const px = Math.min(width - 1, Math.max(0, Math.round(x) + dx));
        const py = Math.min(height - 1, Math.max(0, Math.round(y) + dy));
        at(px, py).forEach((v, c) => (sums[c] += v));
        count++;
      }
    }
    return sums.map((sum) => Math.round(sum / count));
  };
  return { width, height, channels, data, at, mean };
}

// ── PNG bytes ────────────────────────────────────────────────────────────────────────────────

export const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** One PNG chunk: length, type, data, CRC-32 over type and data. */
export function pngChunk(type: string, data: Buffer = Buffer.alloc(0)): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body) >>> 0);
  return Buffer.concat([length, body, crc]);
}

export function pngHeader(width: number, height: number, bitDepth: number, colourType: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = bitDepth;
  ihdr[9] = colourType;
  return pngChunk('IHDR', ihdr);
}

export interface PngSpec {
  width: number;
  height: number;
  /** 0 grey, 2 RGB, 3 palette, 4 grey+alpha, 6 RGBA. */
  colourType: 0 | 2 | 3 | 4 | 6;
  bitDepth: 8 | 16;
  /** sample(x, y) → that pixel's samples (palette index for type 3), each 0…2^bitDepth−1. */
  sample: (x: number, y: number) => readonly number[];
  palette?: readonly Rgb[];
  /** Palette alpha (tRNS), one byte per palette entry. */
  paletteAlpha?: readonly number[];
}

/** A PNG written byte by byte, for the colour types and depths sharp will not write on request. */
export function encodePng(spec: PngSpec): Buffer {
  const { width, height, bitDepth } = spec;
  const bytes = bitDepth / 8;
  const samplesPerPixel = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 }[spec.colourType];
  const stride = 1 + width * samplesPerPixel * bytes;
  const scanlines = Buffer.alloc(stride * height);
  for (let y = 0; y < height; y++) {
    let offset = y * stride + 1; // filter type 0 (None)
    for (let x = 0; x < width; x++) {
      for (const value of spec.sample(x, y)) {
        if (bytes === 2) scanlines.writeUInt16BE(value, offset);
        else scanlines[offset] = value;
        offset += bytes;
      }
    }
  }
  const chunks = [pngHeader(width, height, bitDepth, spec.colourType)];
  if (spec.palette) chunks.push(pngChunk('PLTE', Buffer.from(spec.palette.flat())));
  if (spec.paletteAlpha) chunks.push(pngChunk('tRNS', Buffer.from(spec.paletteAlpha)));
  chunks.push(pngChunk('IDAT', deflateSync(scanlines)), pngChunk('IEND'));
  return Buffer.concat([PNG_SIGNATURE, ...chunks]);
}

/** A few-hundred-byte PNG whose IHDR declares `width`×`height` RGB pixels (a decompression bomb's header). */
export function pngBomb(width = 65535, height = 65535): Buffer {
  const idat = deflateSync(Buffer.alloc(64 * 1024)); // the start of the all-zero scanlines, compressed
  return Buffer.concat([PNG_SIGNATURE, pngHeader(width, height, 8, 2), pngChunk('IDAT', idat), pngChunk('IEND')]);
}

/** `png` with an iCCP chunk (zlib-compressed profile) right after IHDR. */
export function withPngIccProfile(png: Buffer, icc: Buffer, name = 'ICC profile'): Buffer {
  const ihdrEnd = PNG_SIGNATURE.length + 8 + 13 + 4;
  const data = Buffer.concat([Buffer.from(`${name}\0`, 'latin1'), Buffer.from([0]), deflateSync(icc)]);
  return Buffer.concat([png.subarray(0, ihdrEnd), pngChunk('iCCP', data), png.subarray(ihdrEnd)]);
}

// ── JPEG bytes ───────────────────────────────────────────────────────────────────────────────

export interface JpegSegment {
  /** The byte after 0xFF, e.g. 0xC0 for SOF0, 0xE1 for APP1. */
  marker: number;
  offset: number;
  /** Length field (includes its own two bytes; 0 for markers without one). */
  length: number;
}

/** The marker segments of a JPEG from SOI up to and including the first SOS. */
export function jpegSegments(jpeg: Buffer): JpegSegment[] {
  if (jpeg[0] !== 0xff || jpeg[1] !== 0xd8) throw new Error('not a JPEG (no SOI)');
  const segments: JpegSegment[] = [{ marker: 0xd8, offset: 0, length: 0 }];
  let offset = 2;
  while (offset + 4 <= jpeg.length) {
    if (jpeg[offset] !== 0xff) throw new Error(`no marker at byte ${offset}`);
    const marker = jpeg[offset + 1];
    const length = jpeg.readUInt16BE(offset + 2);
    segments.push({ marker, offset, length });
    if (marker === 0xda) break;
    offset += 2 + length;
  }
  return segments;
}

function jpegSegment(marker: number, payload: Buffer): Buffer {
  const head = Buffer.from([0xff, marker, 0, 0]);
  head.writeUInt16BE(payload.length + 2, 2);
  return Buffer.concat([head, payload]);
}

/** `jpeg` with an APP2 ICC_PROFILE segment right after SOI (its pixels are not converted). */
export function withJpegIccProfile(jpeg: Buffer, icc: Buffer): Buffer {
  const payload = Buffer.concat([Buffer.from('ICC_PROFILE\0', 'latin1'), Buffer.from([1, 1]), icc]);
  return Buffer.concat([jpeg.subarray(0, 2), jpegSegment(0xe2, payload), jpeg.subarray(2)]);
}

/** `jpeg` whose frame header (SOF) declares `width`×`height`. */
export function withJpegDimensions(jpeg: Buffer, width: number, height: number): Buffer {
  const sof = jpegSegments(jpeg).find((s) => s.marker >= 0xc0 && s.marker <= 0xc2);
  if (!sof) throw new Error('no SOF0-2 segment');
  const patched = Buffer.from(jpeg);
  patched.writeUInt16BE(height, sof.offset + 5);
  patched.writeUInt16BE(width, sof.offset + 7);
  return patched;
}

/**
 * `jpeg` with stray bytes between two header segments, which libjpeg reports as the warning
 * "Corrupt JPEG data: N extraneous bytes before marker": common in files from some cameras and
 * editors, shown without complaint by browsers and viewers.
 */
export function withExtraneousBytes(jpeg: Buffer, count = 3): Buffer {
  const second = jpegSegments(jpeg)[2];
  return Buffer.concat([jpeg.subarray(0, second.offset), Buffer.alloc(count, 0x5a), jpeg.subarray(second.offset)]);
}

/** The IFD0 tag ids of an EXIF block (as sharp's `metadata().exif` returns it, "Exif\0\0" + TIFF). */
export function exifIfd0Tags(exif: Buffer): number[] {
  const tiff = exif.subarray(0, 6).toString('latin1') === 'Exif\0\0' ? exif.subarray(6) : exif;
  const little = tiff.toString('latin1', 0, 2) === 'II';
  const u16 = (at: number) => (little ? tiff.readUInt16LE(at) : tiff.readUInt16BE(at));
  const u32 = (at: number) => (little ? tiff.readUInt32LE(at) : tiff.readUInt32BE(at));
  const ifd = u32(4);
  return Array.from({ length: u16(ifd) }, (_, i) => u16(ifd + 2 + i * 12));
}

/** EXIF IFD0 tag of the pointer to the GPS IFD. */
export const EXIF_GPS_IFD_POINTER = 0x8825;

// ── GIF and WebP bytes ───────────────────────────────────────────────────────────────────────

/** `gif` whose logical screen declares `width`×`height` (its frames unchanged). */
export function withGifScreen(gif: Buffer, width: number, height: number): Buffer {
  const patched = Buffer.from(gif);
  patched.writeUInt16LE(width, 6);
  patched.writeUInt16LE(height, 8);
  return patched;
}

/** `gif` whose logical screen and first frame's image descriptor both declare `width`×`height`. */
export function withGifFrameSize(gif: Buffer, width: number, height: number): Buffer {
  const patched = withGifScreen(gif, width, height);
  const flags = patched[10];
  let offset = 13 + (flags & 0x80 ? 3 * (2 << (flags & 7)) : 0);
  while (patched[offset] === 0x21) {
    // Extension: introducer, label, then sub-blocks up to a zero-length one.
    offset += 2;
    while (patched[offset] !== 0) offset += patched[offset] + 1;
    offset += 1;
  }
  if (patched[offset] !== 0x2c) throw new Error('no image descriptor');
  patched.writeUInt16LE(width, offset + 5);
  patched.writeUInt16LE(height, offset + 7);
  return patched;
}

/** A lossless WebP (VP8L) whose bitstream header declares `width`×`height` (at most 16384 each). */
export async function webpBomb(width = 16383, height = 16383): Promise<Buffer> {
  const webp = Buffer.from(
    await toSharp(rawImage(16, 16, 3, [255, 0, 0]))
      .webp({ lossless: true })
      .toBuffer(),
  );
  if (webp.toString('latin1', 12, 16) !== 'VP8L' || webp[20] !== 0x2f) throw new Error('expected a simple VP8L WebP');
  const bits = webp.readUInt32LE(21);
  webp.writeUInt32LE(((bits & ~0x0fffffff) | (width - 1) | ((height - 1) << 14)) >>> 0, 21);
  return webp;
}

// ── Other bytes ──────────────────────────────────────────────────────────────────────────────

/** The first `at` bytes; a fraction below 1 is a share of the length, a negative number cuts from the end. */
export function truncate(data: Buffer, at: number): Buffer {
  const length = at < 0 ? data.length + at : at < 1 ? Math.floor(data.length * at) : at;
  return data.subarray(0, length);
}

/** Bytes that look random but are the same for the same seed (mulberry32), so a failure can be replayed. */
export function pseudoRandomBytes(length: number, seed: number): Buffer {
  const bytes = Buffer.alloc(length);
  let state = seed >>> 0;
  for (let i = 0; i < length; i++) {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    bytes[i] = ((t ^ (t >>> 14)) >>> 0) & 0xff;
  }
  return bytes;
}

/** A valid ZIP archive (one stored file), e.g. to append to an image as a polyglot. */
export function storedZip(name: string, content: Buffer): Buffer {
  const fileName = Buffer.from(name, 'utf8');
  const crc = crc32(content) >>> 0;
  const local = Buffer.alloc(30);
  local.writeUInt32LE(0x04034b50, 0);
  local.writeUInt16LE(10, 4); // version needed
  local.writeUInt32LE(crc, 14);
  local.writeUInt32LE(content.length, 18);
  local.writeUInt32LE(content.length, 22);
  local.writeUInt16LE(fileName.length, 26);
  const central = Buffer.alloc(46);
  central.writeUInt32LE(0x02014b50, 0);
  central.writeUInt16LE(20, 4);
  central.writeUInt16LE(10, 6);
  central.writeUInt32LE(crc, 16);
  central.writeUInt32LE(content.length, 20);
  central.writeUInt32LE(content.length, 24);
  central.writeUInt16LE(fileName.length, 28);
  const centralOffset = local.length + fileName.length + content.length;
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(1, 8);
  end.writeUInt16LE(1, 10);
  end.writeUInt32LE(central.length + fileName.length, 12);
  end.writeUInt32LE(centralOffset, 16);
  return Buffer.concat([local, fileName, content, central, fileName, end]);
}

// ── Files and measurement ────────────────────────────────────────────────────────────────────

export interface TempDir {
  readonly path: string;
  /** Writes `data` to a new file in the folder and returns its path. */
  write(name: string, data: Buffer): Promise<string>;
  remove(): Promise<void>;
}

export async function createTempDir(prefix = 'thumbs-test-'): Promise<TempDir> {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
  let counter = 0;
  return {
    path: dir,
    async write(name, data) {
      const file = path.join(dir, `${++counter}-${name}`);
      await writeFile(file, data);
      return file;
    },
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}

export interface Measured<T> {
  result: T;
  ms: number;
  /** Highest resident set size seen while `work` ran, minus the size before it, in bytes. */
  peakRssGrowth: number;
}

/**
 * Runs `work` while sampling the process's RSS every few milliseconds. libvips decodes on libuv
 * threads, so the event loop is free to sample while the pixels are in memory.
 */
export async function measure<T>(work: () => Promise<T>): Promise<Measured<T>> {
  const before = process.memoryUsage.rss();
  let peak = before;
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 2);
  const start = process.hrtime.bigint();
  try {
    const result = await work();
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    peak = Math.max(peak, process.memoryUsage.rss());
    return { result, ms, peakRssGrowth: peak - before };
  } finally {
    clearInterval(timer);
  }
}

/** Settles `promise` and returns what it rejected with (fails if it resolved). */
export async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection, but the promise resolved');
}
