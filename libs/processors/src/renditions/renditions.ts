import type { ThumbnailPosition } from '@app/shared';

/** What to make renditions of, and how. Everything the runner knows about the job that matters here. */
export interface RenditionRequest {
  /** A local path to the original. */
  file: string;
  /** What the upload's content was classified as; the decoders check it again by content. */
  fileType: 'image' | 'video';
  /** THUMBNAIL_SIZE: edge of the square thumbnail; `thumbnail2x` is twice it. */
  thumbnailSize: number;
  /** PREVIEW_SIZE: longest edge of the WebP preview; 0 makes none. */
  previewSize: number;
  /** Crop of the square renditions. */
  position: ThumbnailPosition;
  /** Aborting (JOB_TIMEOUT_MS, shutdown) stops the decoders and rejects with the signal's reason. */
  signal: AbortSignal;
}

/** One encoded picture, ready to store. */
export interface Rendition {
  data: Buffer;
  contentType: 'image/jpeg' | 'image/webp';
  width: number;
  height: number;
}

/** Which decoder produced the pixels: for logs, metrics and the bench. */
export type DecoderName = 'sharp' | 'heic-wasm' | 'ffmpeg-bmp' | 'ffmpeg';

/**
 * Everything made from one decode of a file: what the runner stores (buffers with their content
 * types) and records on the job (thumbhash, dimensions, duration).
 */
export interface Renditions {
  /** THUMBNAIL_SIZE² JPEG, cover-cropped at `position` (the contract's thumbnail). */
  thumbnail: Rendition;
  /** (2×THUMBNAIL_SIZE)² JPEG, the same crop, for high-density screens. */
  thumbnail2x: Rendition;
  /** WebP, longest edge PREVIEW_SIZE, never upscaled; null when PREVIEW_SIZE is 0. */
  preview: Rendition | null;
  /** Videos: looping animated WebP of a few frames across the clip, (2×THUMBNAIL_SIZE)²; null for images (or a video too short to sample). */
  animatedPreview: Rendition | null;
  /** ThumbHash of the thumbnail, base64 (about 25 bytes: a blurred placeholder a client draws before any image loads). */
  thumbhash: string;
  /** The original's size as displayed (after EXIF/HEIF orientation or a video's rotation), pixels. */
  width: number;
  height: number;
  /** Videos: length in milliseconds, when known; null for images. */
  durationMs: number | null;
  decoder: DecoderName;
  /** Videos: the frame was HDR (PQ or HLG); `toneMapped` says whether it was tone-mapped to SDR or only converted. */
  hdr?: { transfer: 'pq' | 'hlg'; toneMapped: boolean };
}

/** The renditions of one job, as storage keys suffixes and content types, in the order the runner stores them. */
export const RENDITION_NAMES = ['thumbnail', 'thumbnail2x', 'preview', 'animatedPreview'] as const;
export type RenditionName = (typeof RENDITION_NAMES)[number];
