import { Module, OnModuleInit } from '@nestjs/common';
import sharp from 'sharp';
import { ImageThumbnailer } from './image/image-thumbnailer';
import { MediaThumbnailer } from './media-thumbnailer';

/** Image and video thumbnailers. Imported by the worker only. */
@Module({
  providers: [ImageThumbnailer, MediaThumbnailer],
  exports: [MediaThumbnailer, ImageThumbnailer],
})
export class ProcessorsModule implements OnModuleInit {
  onModuleInit(): void {
    // libvips' operation cache would keep decoded images and open files of jobs already done.
    sharp.cache(false);
  }
}
