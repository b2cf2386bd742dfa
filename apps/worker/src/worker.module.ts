import { DynamicModule, Module } from '@nestjs/common';
import { AppConfig, CoreModule } from '@app/core';
import { JobsModule } from '@app/jobs';
import { ProcessorsModule } from '@app/processors';
import { StorageModule } from '@app/storage';
import { ThumbnailConsumer } from './thumbnail.consumer';
import { WorkerObservability } from './worker-observability';

/** The worker process: queue consumer, thumbnailers, job lifecycle. No HTTP. */
@Module({})
export class WorkerModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: WorkerModule,
      imports: [
        CoreModule.forRoot(config, 'worker'),
        StorageModule.forRoot(config.storage),
        JobsModule.forRoot(config.database),
        ProcessorsModule,
      ],
      providers: [ThumbnailConsumer, WorkerObservability],
    };
  }
}
