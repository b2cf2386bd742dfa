import { DynamicModule, Global, Module } from '@nestjs/common';
import { StorageConfig } from '@app/core';
import { DiskStorageDriver } from './disk/disk-storage.driver';
import { S3StorageDriver } from './s3/s3-storage.driver';
import { StorageDriver } from './storage.driver';

/** Provides the StorageDriver named by STORAGE_URL, chosen at boot. */
@Global()
@Module({})
export class StorageModule {
  static forRoot(config: StorageConfig): DynamicModule {
    return {
      module: StorageModule,
      providers: [{ provide: StorageDriver, useFactory: () => createStorageDriver(config) }],
      exports: [StorageDriver],
    };
  }
}

export function createStorageDriver(config: StorageConfig): StorageDriver {
  switch (config.driver) {
    case 'file':
      return new DiskStorageDriver(config.root);
    case 's3':
      return new S3StorageDriver(config);
  }
}
