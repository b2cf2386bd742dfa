import sharp, { type JpegOptions, type Sharp, type WebpOptions } from 'sharp';
import { rgbaToThumbHash } from 'thumbhash';
import type { ThumbnailPosition } from '@app/shared';
import { describeImageError } from '../image/sharp-errors';
import type { Rendition, Renditions } from './renditions';

/** JPEG settings of every square thumbnail. */
export const THUMBNAIL_JPEG: JpegOptions = { quality: 82, progressive: false, chromaSubsampling: '4:2:0', mozjpeg: false };
/**
 * WebP settings of the preview: libwebp's fastest method (effort 0) at quality 75. Measured on a
 * 24 MP photo's 1440-px preview: effort 0 q75 68 ms of CPU, effort 2 q80 115 ms, the default
 * effort 4 224 ms; the preview is a quick look, not an archive, and costs more than every other
 * rendition together even so.
 */
export const PREVIEW_WEBP: WebpOptions = { quality: 75, effort: 0, smartSubsample: false };
/**
 * The ThumbHash is computed from the 2× square averaged down to 32×32 (the library takes up to
 * 100×100). Its encoder is plain JavaScript with a cost that grows with the pixels: 3.2 ms at
 * 100×100, 0.13 ms at 32×32, for a hash of the same few low-frequency coefficients (over the 16
 * bench photos, placeholders from 100×100 and from 32×32 inputs differed by at most 4/255 per
 * channel, mean 0.5).
 */
const THUMBHASH_EDGE = 32;

/**
 * A picture decoded once, at the size every rendition can be made from: sRGB, 3 channels, 8 bits,
 * transparency already flattened onto white, oriented as displayed.
 */
export interface DecodedPicture {
  pixels: Buffer;
  width: number;
  height: number;
  /** The original's displayed size, before any shrinking. */
  originalWidth: number;
  originalHeight: number;
}

export interface RenditionSizes {
  thumbnailSize: number;
  previewSize: number;
  position: ThumbnailPosition;
}

/**
 * The size to decode an original of `width`×`height` to, so that every rendition is made from it
 * without upscaling what the original has: the preview's longest edge, and a short side of at
 * least twice the thumbnail (the 2× square's crop). Never larger than the original. Extreme
 * panoramas get a long side of at most eight 2× squares.
 */
export function decodeSize(
  width: number,
  height: number,
  { thumbnailSize, previewSize }: Omit<RenditionSizes, 'position'>,
): { width: number; height: number } {
  const long = Math.max(width, height);
  const short = Math.max(1, Math.min(width, height));
  const square = 2 * thumbnailSize;
  const forSquare = Math.min(square / short, (4 * square) / long);
  const scale = Math.min(1, Math.max(previewSize > 0 ? previewSize / long : 0, forSquare));
  return { width: Math.max(1, Math.round(width * scale)), height: Math.max(1, Math.round(height * scale)) };
}

/** sharp's strategies for the cover crop. */
export function cropPosition(position: ThumbnailPosition): string | number {
  switch (position) {
    case 'attention':
      return sharp.strategy.attention;
    case 'entropy':
      return sharp.strategy.entropy;
    default:
      return 'centre';
  }
}

/**
 * Every still rendition from one decoded picture: the 2× square is cropped once (at `position`) and
 * the 1× square and the ThumbHash are made from it, so all three show the same region; the preview
 * is the picture fitted inside PREVIEW_SIZE, never upscaled.
 */
export async function makeRenditions(
  picture: DecodedPicture,
  sizes: RenditionSizes,
  timeoutSeconds: number,
): Promise<Omit<Renditions, 'animatedPreview' | 'durationMs' | 'decoder'>> {
  const raw = { width: picture.width, height: picture.height, channels: 3 as const };
  const from = (pixels: Buffer, size: { width: number; height: number }): Sharp =>
    sharp(pixels, { raw: { ...size, channels: 3 } }).timeout({ seconds: timeoutSeconds });
  const edge = sizes.thumbnailSize;
  try {
    const squarePixels = from(picture.pixels, raw)
      .resize(2 * edge, 2 * edge, { fit: 'cover', position: cropPosition(sizes.position) })
      .raw()
      .toBuffer();
    const preview =
      sizes.previewSize > 0
        ? encode(
            from(picture.pixels, raw)
              .resize(sizes.previewSize, sizes.previewSize, { fit: 'inside', withoutEnlargement: true })
              .webp(PREVIEW_WEBP),
            'image/webp',
          )
        : Promise.resolve(null);
    const square = await squarePixels;
    const double = { width: 2 * edge, height: 2 * edge };
    const [thumbnail, thumbnail2x] = await Promise.all([
      encode(from(square, double).resize(edge, edge).jpeg(THUMBNAIL_JPEG), 'image/jpeg'),
      encode(from(square, double).jpeg(THUMBNAIL_JPEG), 'image/jpeg'),
    ]);
    const thumbhash = thumbhashOf(square, 2 * edge);
    return { thumbnail, thumbnail2x, preview: await preview, thumbhash, width: picture.originalWidth, height: picture.originalHeight };
  } catch (error) {
    throw describeImageError(error);
  }
}

async function encode(pipeline: Sharp, contentType: Rendition['contentType']): Promise<Rendition> {
  const { data, info } = await pipeline.toBuffer({ resolveWithObject: true });
  return { data, contentType, width: info.width, height: info.height };
}

/** The ThumbHash of a square of RGB pixels `side` wide. */
export function thumbhashOf(pixels: Buffer, side: number): string {
  const target = Math.min(THUMBHASH_EDGE, side);
  return Buffer.from(rgbaToThumbHash(target, target, averagedRgba(pixels, side, target))).toString('base64');
}

/**
 * A square of RGB pixels `side` wide averaged over equal boxes down to `target` wide, as opaque
 * RGBA. Written here rather than asked of sharp: a sharp pipeline costs about 1 ms of CPU
 * whatever its size (on a 64×64 upload that was an eighth of all its renditions); this is
 * 65,536 additions for the default 256-px square.
 */
export function averagedRgba(pixels: Buffer, side: number, target: number): Uint8Array {
  const out = new Uint8Array(target * target * 4);
  for (let y = 0; y < target; y++) {
    const top = Math.floor((y * side) / target);
    const bottom = Math.max(top + 1, Math.floor(((y + 1) * side) / target));
    for (let x = 0; x < target; x++) {
      const left = Math.floor((x * side) / target);
      const right = Math.max(left + 1, Math.floor(((x + 1) * side) / target));
      let r = 0;
      let g = 0;
      let b = 0;
      for (let row = top; row < bottom; row++) {
        for (let i = (row * side + left) * 3, end = (row * side + right) * 3; i < end; i += 3) {
          r += pixels[i];
          g += pixels[i + 1];
          b += pixels[i + 2];
        }
      }
      const count = (bottom - top) * (right - left);
      const o = (y * target + x) * 4;
      out[o] = Math.round(r / count);
      out[o + 1] = Math.round(g / count);
      out[o + 2] = Math.round(b / count);
      out[o + 3] = 255;
    }
  }
  return out;
}
