export * from './processors.module';
export * from './media-thumbnailer';
export * from './image/image-thumbnailer';
export * from './image/sharp-errors';
export { VideoThumbnailer } from './video/video-thumbnailer';
export { MediaTools, MediaToolsError } from './media-tools/media-tools';
export type { MediaToolInfo, MediaToolName, MediaToolSource, MediaToolsInfo, MediaToolsOptions } from './media-tools/media-tools';
