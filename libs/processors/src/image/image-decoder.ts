import { constants } from 'node:fs';
import { copyFile, mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import sharp, { type Metadata, type Sharp, type SharpOptions } from 'sharp';
import { UnprocessableMediaError } from '@app/core';
import type { MediaTools } from '../media-tools/media-tools';
import { abortReason } from '../media-tools/tool-process';
import { pixelLimitError } from '../pixel-limit';
import { decodeSize, type DecodedPicture, type RenditionSizes } from '../renditions/rendition-maker';
import type { DecoderName } from '../renditions/renditions';
import { inputPath } from '../video/ffprobe';
import { FfmpegError, FrameExtractor } from '../video/frame-extractor';
import { stderrLines } from '../video/video-errors';
import { HeicDecoder } from './heic/heic-decoder';
import { jpegFrame, jpegReachesEnd, unreadableVariant } from './jpeg-markers';
import { describeImageError } from './sharp-errors';

export interface ImageDecodeOptions {
  sizes: Omit<RenditionSizes, 'position'>;
  maxInputPixels: number;
  timeoutSeconds: number;
  signal?: AbortSignal;
}

/** White, for flattening transparency. */
const WHITE = '#ffffff';

/**
 * Decodes a still image once, to the size its renditions need (see decodeSize), as sRGB 8-bit RGB
 * with transparency flattened onto white and EXIF/HEIF orientation applied:
 * - sharp (libvips) for JPEG, PNG, GIF, WebP, AVIF, TIFF (first page; CMYK, 16-bit): it reads the
 *   header, then decodes from the file path shrinking on load (JPEG DCT scaling, WebP scaling);
 *   an animated AVIF from memory, by its primary image (avifSequenceAsStill);
 * - HEIC/HEIF coded with HEVC (the header, read by sharp, says so): libheif-js in a thread, then
 *   the same sharp steps on the TIFF it returns (ICC profile kept, so Display P3 becomes sRGB);
 * - BMP (sharp's prebuilt libvips has no BMP loader): ffmpeg's bmp decoder, which the worker has
 *   anyway (1–32 bit, RLE, bitfields), scaled down in ffmpeg and piped as PNG.
 * Every path refuses more than MAX_INPUT_PIXELS from the header, before a pixel is decoded.
 */
export class ImageDecoder {
  private readonly heic = new HeicDecoder();

  constructor(private readonly tools?: MediaTools) {}

  async decodeFile(file: string, options: ImageDecodeOptions): Promise<DecodedPicture & { decoder: DecoderName }> {
    const still = await avifSequenceAsStill(file);
    try {
      return await this.decodeFileAs(file, still ?? file, still !== undefined, options);
    } finally {
      if (still) await rm(path.dirname(still), { recursive: true, force: true });
    }
  }

  /** `file` decoded from `input` (itself, or a copy read as a still AVIF when `sequence`). */
  private async decodeFileAs(
    file: string,
    input: string,
    sequence: boolean,
    options: ImageDecodeOptions,
  ): Promise<DecodedPicture & { decoder: DecoderName }> {
    const header = await readHeader(input, sequence);
    if (header === 'bmp') return { ...(await this.decodeBmp(file, options)), decoder: 'ffmpeg-bmp' };
    const { width, height } = displayedSize(header);
    this.assertDecodable(width, height, options.maxInputPixels);
    if (header.format === 'heif' && header.compression === 'hevc') {
      const decoded = await this.heic.decode(file, options.maxInputPixels, header.icc, options.signal ?? new AbortController().signal);
      const picture = await toPicture(sharp(decoded.tiff, inputOptions(options, false)), decoded.width, decoded.height, options);
      return { ...picture, decoder: 'heic-wasm' };
    }
    const describe = header.format === 'jpeg' ? (error: unknown) => describeJpegError(file, error) : describeImageError;
    try {
      return { ...(await toPicture(sharp(input, inputOptions(options, true)), width, height, options, describe)), decoder: 'sharp' };
    } catch (error) {
      throw header.format === 'png' ? await pngCutShort(file, error) : error;
    }
  }

  /** For pictures already decoded and encoded in memory (video frames as PNG). */
  decodeBuffer(input: Buffer, options: ImageDecodeOptions, size?: { width: number; height: number }): Promise<DecodedPicture> {
    return (async () => {
      const { width, height } = size ?? displayedSize(await sharp(input, { limitInputPixels: false }).metadata());
      this.assertDecodable(width, height, options.maxInputPixels);
      return toPicture(sharp(input, inputOptions(options, true)), width, height, options);
    })();
  }

  private assertDecodable(width: number, height: number, limit: number): void {
    if (width <= 0 || height <= 0) throw new UnprocessableMediaError('The image has no pixels (its width or height is 0).', 'undecodable');
    const tooBig = pixelLimitError('image', width, height, limit);
    if (tooBig) throw tooBig;
  }

  private async decodeBmp(file: string, options: ImageDecodeOptions): Promise<DecodedPicture> {
    if (!this.tools) throw new UnprocessableMediaError('BMP images cannot be read here (no ffmpeg).', 'undecodable');
    const head = await readBytes(file, 26);
    const width = head.length >= 26 ? Math.abs(head.readInt32LE(18)) : 0;
    const height = head.length >= 26 ? Math.abs(head.readInt32LE(22)) : 0;
    this.assertDecodable(width, height, options.maxInputPixels);
    const target = decodeSize(width, height, options.sizes);
    const frame = await new FrameExtractor(this.tools)
      .extract({
        file,
        streamIndex: 0,
        seconds: 0,
        imageFormat: 'bmp_pipe',
        filters: [`scale=${target.width}:${target.height}:flags=area`, 'format=rgba'],
        maxBytes: target.width * target.height * 4 + 1024 * 1024,
        signal: options.signal ?? new AbortController().signal,
      })
      .catch((error: Error) => {
        if (options.signal?.aborted) throw abortReason(options.signal);
        if (error instanceof FfmpegError) return { png: null, stderr: error.stderr };
        throw error;
      });
    if (!frame.png) {
      const detail = stderrLines(frame.stderr, inputPath(file))[0]?.slice(0, 80) ?? '';
      const truncated = /truncat|not enough|end of file|premature|invalid data/i.test(detail);
      throw new UnprocessableMediaError(
        truncated
          ? `The BMP image is incomplete or damaged${detail ? ` (${detail})` : ''}. Upload the complete file again.`
          : `The BMP image is damaged and could not be decoded${detail ? ` (${detail})` : ''}. Re-save it in an image editor and upload it again.`,
        truncated ? 'truncated' : 'undecodable',
      );
    }
    return toPicture(sharp(frame.png, inputOptions(options, true)), width, height, options);
  }
}

/** What libheif says when a file has no primary image to decode ("No or invalid primary item", "'pitm' box references … non-existing image", no meta box). */
const NO_PRIMARY_IMAGE = /primary item|'pitm'|no 'meta'/i;

/** The header as sharp reads it, or 'bmp' for a file sharp cannot read that starts like a BMP. */
async function readHeader(input: string, sequence: boolean): Promise<Metadata | 'bmp'> {
  try {
    return await sharp(input, { limitInputPixels: false, pages: 1 }).metadata();
  } catch (error) {
    const raw = (error as Error).message ?? '';
    if (!sequence && /unsupported image format/i.test(raw)) {
      const head = await readBytes(input, 2).catch(() => Buffer.alloc(0));
      if (head.toString('latin1') === 'BM') return 'bmp';
    }
    // An animated AVIF (avifSequenceAsStill) with no still image (a sequence alone, or a primary
    // item that is not there) is not damaged, just not a picture.
    if (sequence && NO_PRIMARY_IMAGE.test(raw)) {
      throw new UnprocessableMediaError(
        'The image is an animated AVIF without a still picture (a primary image) to make a thumbnail from. Save its first frame as an image and upload that.',
        'undecodable',
      );
    }
    // (describeJpegError describes a file that is not a JPEG as describeImageError does.)
    throw sequence ? describeImageError(error) : await describeJpegError(input, error);
  }
}

/**
 * An animated AVIF (major brand `avis`, as avifenc, ffmpeg and online converters write it) as the
 * still AVIF its primary image is: libvips recognises a HEIF file by its major brand alone and
 * does not know `avis`, although libheif decodes the primary image (the first frame, which those
 * encoders store as a still item beside the sequence) once the brand reads `avif`. The file is
 * copied into a private temporary folder (a reflink where the file system can; never into memory)
 * and only the copy's brand changes; the caller removes the folder. Undefined for any other file.
 * The header and pixel limits then apply to the copy as to any AVIF.
 */
async function avifSequenceAsStill(file: string): Promise<string | undefined> {
  const head = await readBytes(file, 12).catch(() => Buffer.alloc(0));
  if (head.length < 12 || head.toString('latin1', 4, 12) !== 'ftypavis') return undefined;
  const folder = await mkdtemp(path.join(tmpdir(), 'thumbs-avis-'));
  const copy = path.join(folder, 'still.avif');
  try {
    await copyFile(file, copy, constants.COPYFILE_FICLONE);
    const handle = await open(copy, 'r+');
    try {
      await handle.write(Buffer.from('avif', 'latin1'), 0, 4, 8);
    } finally {
      await handle.close();
    }
    return copy;
  } catch (error) {
    await rm(folder, { recursive: true, force: true });
    throw error;
  }
}

async function readBytes(file: string, count: number, fromEnd = false): Promise<Buffer> {
  const handle = await open(file, 'r');
  try {
    const position = fromEnd ? Math.max(0, (await handle.stat()).size - count) : 0;
    const buffer = Buffer.alloc(count);
    const { bytesRead } = await handle.read(buffer, 0, count, position);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

/** A PNG's last chunk: IEND, empty, with its CRC. */
const PNG_END = Buffer.from([0, 0, 0, 0, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82]);

/**
 * A PNG that failed to decode and does not end with IEND was cut short: libspng reports some cuts
 * (inside an interlaced image's passes) only as "Unknown error", which would otherwise read as a
 * damaged file rather than an incomplete upload.
 */
async function pngCutShort(file: string, error: unknown): Promise<unknown> {
  if (!(error instanceof UnprocessableMediaError) || error.reason !== 'undecodable') return error;
  const end = await readBytes(file, PNG_END.length, true).catch(() => PNG_END);
  if (end.equals(PNG_END)) return error;
  return new UnprocessableMediaError(
    'The image file is incomplete: it ends before its last part. Upload the complete file again.',
    'truncated',
  );
}

/** What libjpeg says when a JPEG is of a kind it does not decode (and libvips when it asks for what such a JPEG cannot give). */
const UNSUPPORTED_JPEG = /unsupported|lossless/i;

/**
 * A JPEG's error, described. A JPEG of a kind the decoder cannot read (lossless, 12-bit,
 * hierarchical: jpegFrame) is said to be one, not damaged. libjpeg says "premature end of data
 * segment" both for a file cut short and for damaged entropy data that runs into the next marker;
 * a JPEG whose scan goes on to its end marker (EOI) is complete, so the words then mean damaged
 * data, and the user is told to re-save the file, not to upload it again.
 */
async function describeJpegError(file: string, error: unknown): Promise<Error> {
  if (UNSUPPORTED_JPEG.test((error as Error | undefined)?.message ?? '')) {
    const frame = await jpegFrame(file).catch(() => undefined);
    const variant = frame && unreadableVariant(frame);
    if (variant) {
      return new UnprocessableMediaError(
        `The image is a ${variant} JPEG, a kind of JPEG this service cannot decode. Save it as a standard JPEG and upload it again.`,
        'undecodable',
      );
    }
  }
  const described = describeImageError(error);
  if (!(described instanceof UnprocessableMediaError) || described.reason !== 'truncated') return described;
  return (await jpegReachesEnd(file).catch(() => false)) ? describeImageError(error, { complete: true }) : described;
}

/** Width and height as displayed: one page of an animation, EXIF orientation applied. */
function displayedSize(metadata: Metadata): { width: number; height: number } {
  const width = metadata.width ?? 0;
  const height = metadata.pageHeight ?? metadata.height ?? 0;
  return (metadata.orientation ?? 1) >= 5 ? { width: height, height: width } : { width, height };
}

function inputOptions(options: ImageDecodeOptions, fromFile: boolean): SharpOptions {
  return {
    autoOrient: true,
    // sharp's default ('warning') refuses files every browser shows, such as JPEGs with
    // "Corrupt JPEG data: N extraneous bytes before marker". 'error' still refuses truncated
    // files and real decoding errors, so a cut-off upload fails with a clear reason.
    failOn: 'error',
    limitInputPixels: options.maxInputPixels,
    sequentialRead: fromFile,
    pages: 1,
    page: 0,
  };
}

/**
 * Decodes (shrinking on load) to decodeSize, flattened onto white, sRGB, 3 channels; a decoding
 * error is described by `describe`.
 */
async function toPicture(
  image: Sharp,
  width: number,
  height: number,
  options: ImageDecodeOptions,
  describe: (error: unknown) => Error | Promise<Error> = describeImageError,
): Promise<DecodedPicture> {
  options.signal?.throwIfAborted();
  const target = decodeSize(width, height, options.sizes);
  try {
    const { data, info } = await image
      .resize(target.width, target.height, { fit: 'fill', fastShrinkOnLoad: true })
      .flatten({ background: WHITE })
      .toColourspace('srgb')
      .removeAlpha()
      .raw()
      .timeout({ seconds: options.timeoutSeconds })
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new Error(`expected 3 channels, got ${info.channels}`);
    return { pixels: data, width: info.width, height: info.height, originalWidth: width, originalHeight: height };
  } catch (error) {
    if (options.signal?.aborted) throw abortReason(options.signal);
    throw await describe(error);
  }
}
