import { Injectable } from '@nestjs/common';
import { UnprocessableMediaError } from '@app/core';
import type { ThumbnailRequest } from '@app/jobs';
import { ImageThumbnailer } from './image/image-thumbnailer';
import { VideoThumbnailer } from './video/video-thumbnailer';

/** Picks the thumbnailer for a job's file type. The only entry point the worker uses. */
@Injectable()
export class MediaThumbnailer {
  constructor(
    private readonly images: ImageThumbnailer,
    private readonly videos: VideoThumbnailer,
  ) {}

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
