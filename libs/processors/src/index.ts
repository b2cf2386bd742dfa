export * from './processors.module';
export * from './media-thumbnailer';
export * from './image/image-thumbnailer';
export * from './image/sharp-errors';
