export * from './storage.driver';
export * from './storage-keys';
export * from './byte-limit';
export * from './storage.module';
