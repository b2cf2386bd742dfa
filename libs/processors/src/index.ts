export * from './processors.module';
export * from './media-thumbnailer';
export * from './image/image-thumbnailer';
export * from './image/sharp-errors';
export { VideoThumbnailer } from './video/video-thumbnailer';
export { MediaTools, MediaToolsError } from './media-tools/media-tools';
export type {
  DecodersInfo,
  MediaCapabilities,
  MediaToolInfo,
  MediaToolName,
  MediaToolSource,
  MediaToolsInfo,
  MediaToolsOptions,
} from './media-tools/media-tools';
export { RENDITION_NAMES } from './renditions/renditions';
export type { DecoderName, Rendition, RenditionName, RenditionRequest, Renditions } from './renditions/renditions';
export { makeRenditions, PREVIEW_WEBP, THUMBNAIL_JPEG } from './renditions/rendition-maker';
export type { DecodedPicture } from './renditions/rendition-maker';
export { ImageDecoder } from './image/image-decoder';
