export * from './job';
export * from './user';
export * from './events';
export * from './errors';
export * from './media';
export * from './api-key';
export * from './format-bytes';
