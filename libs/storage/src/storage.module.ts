import { DynamicModule, Global, Module } from '@nestjs/common';
import { StorageConfig } from '@app/core';
import { DiskStorageDriver } from './disk/disk-storage.driver';
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
    case 's3': {
      // Loaded only when used: the AWS SDK is ≈ 4 MiB of every process's V8 heap, and each full
      // garbage collection walks the whole heap (docs/deploy.md#garbage-collection).
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { S3StorageDriver } = require('./s3/s3-storage.driver') as typeof import('./s3/s3-storage.driver');
      return new S3StorageDriver(config);
    }
  }
}
