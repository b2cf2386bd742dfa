import { Injectable } from '@nestjs/common';
import sharp, { type JpegOptions, type Metadata, type Sharp, type SharpOptions } from 'sharp';
import { AppConfig, JobTimeoutError, UnprocessableMediaError } from '@app/core';
import { pixelLimitError } from '../pixel-limit';
import { describeImageError } from './sharp-errors';

/** JPEG settings of every thumbnail. */
export const THUMBNAIL_JPEG: JpegOptions = { quality: 82, progressive: false, chromaSubsampling: '4:2:0', mozjpeg: false };

/**
 * Still images (JPEG, PNG, GIF, WebP) and decoded video frames → a square JPEG thumbnail:
 * EXIF orientation applied, centre-cropped to cover, transparency flattened onto white, converted
 * to sRGB (CMYK and ICC-tagged inputs included), first frame of an animation.
 *
 * Decompression bombs are refused from the header alone, before any pixel is decoded; decoding
 * reads from the file path so libjpeg and libwebp can shrink on load instead of decoding full size.
 * The file is opened once on the way to a thumbnail; its header is read again on its own only to
 * explain a failure.
 */
@Injectable()
export class ImageThumbnailer {
  constructor(private readonly config: AppConfig) {}

  async fromFile(file: string, size: number, signal?: AbortSignal): Promise<Buffer> {
    try {
      // One open of the file: libvips reads the header, sharp refuses more than MAX_INPUT_PIXELS
      // (limitInputPixels) before a pixel is decoded, then decodes, shrinking on load.
      return await this.render(sharp(file, this.inputOptions()), size, signal);
    } catch (error) {
      if (error instanceof JobTimeoutError) throw error;
      throw (await this.headerVerdict(file)) ?? error;
    }
  }

  /** For frames already decoded to an image in memory (video frames). */
  async fromBuffer(input: Buffer, size: number, signal?: AbortSignal): Promise<Buffer> {
    return this.render(sharp(input, this.inputOptions()), size, signal);
  }

  /**
   * After a failure, the header alone says what is wrong in numbers a person understands: no
   * pixels at all, or a frame above MAX_INPUT_PIXELS (by how much). Null when the header does not
   * explain it (the decoder's own error then stands).
   */
  private async headerVerdict(file: string): Promise<UnprocessableMediaError | null> {
    let metadata: Metadata;
    try {
      metadata = await sharp(file, { limitInputPixels: false, pages: 1 }).metadata();
    } catch {
      return null;
    }
    const width = metadata.width ?? 0;
    const height = metadata.pageHeight ?? metadata.height ?? 0;
    if (width <= 0 || height <= 0) return new UnprocessableMediaError('The image has no pixels (its width or height is 0).', 'undecodable');
    return pixelLimitError('image', width, height, this.config.thumbnails.maxInputPixels);
  }

  private inputOptions(): SharpOptions {
    return {
      autoOrient: true,
      // sharp's default ('warning') refuses files every browser shows, such as JPEGs with
      // "Corrupt JPEG data: N extraneous bytes before marker". 'error' still refuses truncated
      // files and real decoding errors, so a cut-off upload fails with a clear reason.
      failOn: 'error',
      limitInputPixels: this.config.thumbnails.maxInputPixels,
      sequentialRead: true,
      pages: 1,
      page: 0,
    };
  }

  private async render(image: Sharp, size: number, signal?: AbortSignal): Promise<Buffer> {
    signal?.throwIfAborted();
    const seconds = Math.max(1, Math.ceil(this.config.worker.jobTimeoutMs / 1000));
    try {
      return await image
        .resize(size, size, { fit: 'cover', position: 'centre', fastShrinkOnLoad: true })
        .flatten({ background: '#ffffff' })
        .toColourspace('srgb')
        .jpeg(THUMBNAIL_JPEG)
        .timeout({ seconds })
        .toBuffer();
    } catch (error) {
      if (signal?.aborted && signal.reason instanceof JobTimeoutError) throw signal.reason;
      throw describeImageError(error);
    }
  }
}
