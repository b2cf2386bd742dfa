import { Injectable, Optional } from '@nestjs/common';
import { AppConfig } from '@app/core';
import { MediaTools } from '../media-tools/media-tools';
import { makeRenditions, type DecodedPicture, type RenditionSizes } from '../renditions/rendition-maker';
import type { Renditions } from '../renditions/renditions';
import { ImageDecoder, type ImageDecodeOptions } from './image-decoder';

/** The still renditions of an image (everything but the video-only fields). */
export type ImageRenditions = Omit<Renditions, 'animatedPreview' | 'durationMs'>;

/**
 * Still images (JPEG, PNG, GIF, WebP, AVIF, HEIC/HEIF, TIFF, BMP) and decoded video frames → the
 * renditions, from one decode (ImageDecoder): the square thumbnail and its 2× twin (cover crop at
 * the position asked for), the WebP preview and the ThumbHash. EXIF/HEIF orientation applied,
 * transparency flattened onto white, sRGB (CMYK and ICC-tagged inputs included), first frame of
 * an animation, first page of a TIFF, the primary image of a HEIC; nothing of the original's
 * metadata carried over. Decompression bombs are refused from the header before any decoding.
 */
@Injectable()
export class ImageThumbnailer {
  private readonly decoder: ImageDecoder;

  constructor(
    private readonly config: AppConfig,
    @Optional() tools?: MediaTools,
  ) {
    this.decoder = new ImageDecoder(tools);
  }

  /** Every still rendition of an image file. */
  async renditions(file: string, sizes: RenditionSizes, signal?: AbortSignal): Promise<ImageRenditions> {
    const picture = await this.decoder.decodeFile(file, this.decodeOptions(sizes, signal));
    return { ...(await this.render(picture, sizes)), decoder: picture.decoder };
  }

  /** Every still rendition of a picture already in memory (a video frame as PNG), `size` being its displayed size when known. */
  async renditionsOfBuffer(input: Buffer, sizes: RenditionSizes, signal?: AbortSignal): Promise<Omit<ImageRenditions, 'decoder'>> {
    return this.render(await this.decoder.decodeBuffer(input, this.decodeOptions(sizes, signal)), sizes);
  }

  /**
   * The square JPEG thumbnail alone (THUMBNAIL_POSITION from the config): decoded for the squares
   * only, no preview, as cheap as the thumbnail was before renditions.
   */
  async fromFile(file: string, size: number, signal?: AbortSignal): Promise<Buffer> {
    return (await this.renditions(file, this.thumbnailOnly(size), signal)).thumbnail.data;
  }

  /** The square JPEG thumbnail of a picture in memory. */
  async fromBuffer(input: Buffer, size: number, signal?: AbortSignal): Promise<Buffer> {
    return (await this.renditionsOfBuffer(input, this.thumbnailOnly(size), signal)).thumbnail.data;
  }

  /** Sizes for the thumbnail alone: the configured crop, no preview. */
  thumbnailOnly(thumbnailSize = this.config.thumbnails.size): RenditionSizes {
    return { ...this.sizes(thumbnailSize), previewSize: 0 };
  }

  /** The configured sizes and crop, with another thumbnail size. */
  sizes(thumbnailSize = this.config.thumbnails.size): RenditionSizes {
    return { thumbnailSize, previewSize: this.config.thumbnails.previewSize, position: this.config.thumbnails.position };
  }

  private decodeOptions(sizes: RenditionSizes, signal?: AbortSignal): ImageDecodeOptions {
    return { sizes, maxInputPixels: this.config.thumbnails.maxInputPixels, timeoutSeconds: this.timeoutSeconds(), signal };
  }

  private render(picture: DecodedPicture, sizes: RenditionSizes) {
    return makeRenditions(picture, sizes, this.timeoutSeconds());
  }

  private timeoutSeconds(): number {
    return Math.max(1, Math.ceil(this.config.worker.jobTimeoutMs / 1000));
  }
}
