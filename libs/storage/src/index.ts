export * from './storage.driver';
export * from './storage-keys';
export * from './byte-limit';
export * from './disk/disk-storage.driver';
export * from './s3/s3-storage.driver';
export * from './storage.module';
