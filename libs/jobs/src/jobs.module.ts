import { BullModule } from '@nestjs/bullmq';
import { DynamicModule, Module } from '@nestjs/common';
import { MongooseModule } from '@nestjs/mongoose';
import { AppConfig, DatabaseConfig, RedisConnections } from '@app/core';
import { JobEvents } from './events/job-events';
import { JobRunner } from './execution/job-runner';
import { RenditionBackfill } from './execution/rendition-backfill';
import { UploadIntake } from './intake/upload-intake';
import { Idempotency } from './idempotency/idempotency';
import { IdempotencyRecords } from './idempotency/idempotency.records';
import { MongoIdempotencyRecords } from './idempotency/mongo-idempotency.records';
import { SqliteIdempotencyRecords } from './idempotency/sqlite-idempotency.records';
import { JobsRepository } from './jobs.repository';
import { JobsService } from './jobs.service';
import { JobLifecycle } from './lifecycle/job-lifecycle';
import { JobRecovery } from './lifecycle/job-recovery';
import {
  IdempotencyKeyDocument,
  IdempotencyKeySchema,
  JobDocument,
  JobSchema,
  MongoJobsRepository,
} from './persistence/mongo-jobs.repository';
import { SqliteJobsRepository } from './persistence/sqlite-jobs.repository';
import { JobQueue, THUMBNAIL_QUEUE } from './queue/job-queue';
import { QueueDashboard } from './queue/queue-dashboard';
import { VirusScanner } from './scanning/virus-scanner';
import { WorkerRegistry } from './workers/worker-registry';
import { DependencyProbes } from './health/dependency-probes';
import { OrphanSweep } from './library/orphan-sweep';
import { TrashPurge } from './library/trash-purge';
import { JobLibrary } from './library/job-library';
import { JobArchives } from './library/job-archives';

/** Jobs: repository (adapter per DATABASE_URL), the lifecycle, the BullMQ queue with per-user FIFO, status events, the worker's run. */
@Module({})
export class JobsModule {
  static forRoot(database: DatabaseConfig): DynamicModule {
    return {
      module: JobsModule,
      imports: [
        BullModule.forRootAsync({
          inject: [AppConfig, RedisConnections],
          useFactory: (config: AppConfig, redis: RedisConnections) => ({
            connection: redis.get('queue'),
            prefix: config.redis.prefix,
          }),
        }),
        BullModule.registerQueue({ name: THUMBNAIL_QUEUE }),
        ...(database.kind === 'mongo'
          ? [
              MongooseModule.forFeature([
                { name: JobDocument.name, schema: JobSchema },
                { name: IdempotencyKeyDocument.name, schema: IdempotencyKeySchema },
              ]),
            ]
          : []),
      ],
      providers: [
        { provide: JobsRepository, useClass: database.kind === 'mongo' ? MongoJobsRepository : SqliteJobsRepository },
        { provide: IdempotencyRecords, useClass: database.kind === 'mongo' ? MongoIdempotencyRecords : SqliteIdempotencyRecords },
        Idempotency,
        JobEvents,
        JobQueue,
        JobLifecycle,
        JobRecovery,
        QueueDashboard,
        JobsService,
        UploadIntake,
        VirusScanner,
        JobRunner,
        RenditionBackfill,
        WorkerRegistry,
        DependencyProbes,
        TrashPurge,
        OrphanSweep,
        JobLibrary,
        JobArchives,
      ],
      exports: [
        Idempotency,
        JobsService,
        JobLifecycle,
        JobRecovery,
        JobEvents,
        JobQueue,
        QueueDashboard,
        JobRunner,
        RenditionBackfill,
        UploadIntake,
        WorkerRegistry,
        DependencyProbes,
        TrashPurge,
        OrphanSweep,
        JobLibrary,
        JobArchives,
      ],
    };
  }
}
