import { Injectable } from '@nestjs/common';
import { UnprocessableMediaError } from '@app/core';
import type { FileType, ThumbnailPosition } from '@app/shared';
import { ImageThumbnailer } from './image/image-thumbnailer';
import type { RenditionRequest, Renditions } from './renditions/renditions';
import { VideoThumbnailer } from './video/video-thumbnailer';

/**
 * What a job's run asks for: the two fields of the job that shape its renditions, a local path to
 * the original, THUMBNAIL_SIZE, PREVIEW_SIZE (absent: no preview) and a stop signal. The worker's
 * runner passes its own request, which has this shape; processors need nothing else of a job.
 */
export interface JobThumbnailRequest {
  job: { fileType: FileType; position: ThumbnailPosition };
  file: string;
  size: number;
  previewSize?: number;
  signal: AbortSignal;
}

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
   * Every rendition of a job's file, as the worker's runner asks for them (the job's type and crop
   * position; PREVIEW_SIZE from the request, 0 when it has none).
   */
  forJob(request: JobThumbnailRequest): Promise<Renditions> {
    const { job, file, size, previewSize, signal } = request;
    return this.renditions({
      file,
      fileType: job.fileType,
      thumbnailSize: size,
      previewSize: previewSize ?? 0,
      position: job.position,
      signal,
    });
  }

  /**
   * The square JPEG thumbnail alone (the job's crop position; decoded for the squares only: no
   * preview or animated preview), for callers that want nothing else.
   */
  async thumbnail(request: JobThumbnailRequest): Promise<Buffer> {
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
