import { Injectable } from '@nestjs/common';
import { UnprocessableMediaError } from '@app/core';
import type { ThumbnailRequest } from '@app/jobs';
import { ImageThumbnailer } from './image/image-thumbnailer';
import type { RenditionRequest, Renditions } from './renditions/renditions';
import { VideoThumbnailer } from './video/video-thumbnailer';

/** Picks the decoder for a file type. The only entry point the worker uses. */
@Injectable()
export class MediaThumbnailer {
  constructor(
    private readonly images: ImageThumbnailer,
    private readonly videos: VideoThumbnailer,
  ) {}

  /** Every rendition of the file, from one decode (plus, for videos, the animated preview's seeks). */
  async renditions(request: RenditionRequest): Promise<Renditions> {
    const { file, signal } = request;
    const sizes = { thumbnailSize: request.thumbnailSize, previewSize: request.previewSize, position: request.position };
    switch (request.fileType) {
      case 'image':
        return { ...(await this.images.renditions(file, sizes, signal)), animatedPreview: null, durationMs: null };
      case 'video':
        return this.videos.renditions(file, sizes, signal);
      default:
        throw new UnprocessableMediaError(`Thumbnails of ${String(request.fileType)} files are not supported.`, 'unsupported');
    }
  }

  /**
   * The square JPEG thumbnail alone, for the runner as it is until it stores every rendition
   * (configured PREVIEW_SIZE and THUMBNAIL_POSITION; no animated preview).
   */
  thumbnail(request: ThumbnailRequest): Promise<Buffer> {
    switch (request.job.fileType) {
      case 'image':
        return this.images.fromFile(request.file, request.size, request.signal);
      case 'video':
        return this.videos.fromFile(request.file, request.size, request.signal);
      default:
        throw new UnprocessableMediaError(`Thumbnails of ${String(request.job.fileType)} files are not supported.`, 'unsupported');
    }
  }
}
