import { DynamicModule, Module } from '@nestjs/common';
import { AppConfig, CoreModule, MetricsHttpModule } from '@app/core';
import { UrlSigner } from '@app/auth';
import { JobsModule, JobViewMapper } from '@app/jobs';
import { ProcessorsModule } from '@app/processors';
import { StorageModule } from '@app/storage';
import { WebhookDispatcher, WebhooksModule } from '@app/webhooks';
import { ThumbnailConsumer } from './thumbnail.consumer';
import { WebhookConsumer } from './webhook.consumer';
import { WorkerHealthController } from './worker-health.controller';
import { WorkerObservability } from './worker-observability';

/** The worker process: queue consumer, thumbnailers, job lifecycle. No HTTP but `/metrics` and `/health` on WORKER_METRICS_PORT. */
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
        WebhooksModule.forWorker(config.database),
        MetricsHttpModule,
      ],
      controllers: [WorkerHealthController],
      // Webhooks: the dispatcher hears job ends from the lifecycle; the job JSON is the REST API's (signed URLs too).
      providers: [ThumbnailConsumer, WorkerObservability, UrlSigner, JobViewMapper, WebhookDispatcher, WebhookConsumer],
    };
  }
}
