import { Module, OnModuleInit } from '@nestjs/common';
import sharp from 'sharp';
import { AppConfig } from '@app/core';
import { ImageThumbnailer } from './image/image-thumbnailer';
import { MediaThumbnailer } from './media-thumbnailer';
import { MediaTools } from './media-tools/media-tools';
import { VideoThumbnailer } from './video/video-thumbnailer';

/**
 * Image and video thumbnailers. Imported by the worker only. The ffmpeg/ffprobe binaries are
 * resolved (and run once with -version) while the module starts, so a worker without a working
 * ffmpeg fails at boot with a message saying what to install or set, not on its first video.
 */
@Module({
  providers: [
    ImageThumbnailer,
    VideoThumbnailer,
    MediaThumbnailer,
    { provide: MediaTools, inject: [AppConfig], useFactory: (config: AppConfig) => MediaTools.fromConfig(config) },
  ],
  exports: [MediaThumbnailer, ImageThumbnailer, VideoThumbnailer, MediaTools],
})
export class ProcessorsModule implements OnModuleInit {
  onModuleInit(): void {
    // libvips' operation cache would keep decoded images and open files of jobs already done.
    sharp.cache(false);
  }
}
