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
   * (the job's crop position; decoded for the squares only: no preview or animated preview that
   * nothing would store).
   */
  async thumbnail(request: ThumbnailRequest): Promise<Buffer> {
    const { job, file, signal } = request;
    const sizes = { ...this.images.thumbnailOnly(request.size), position: job.position };
    switch (job.fileType) {
      case 'image':
        return (await this.images.renditions(file, sizes, signal)).thumbnail.data;
      case 'video':
        return (await this.videos.renditions(file, sizes, signal, { animated: false })).thumbnail.data;
      default:
        throw new UnprocessableMediaError(`Thumbnails of ${String(job.fileType)} files are not supported.`, 'unsupported');
    }
  }
}
