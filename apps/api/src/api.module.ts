import { DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { TerminusModule } from '@nestjs/terminus';
import { AuthModule } from '@app/auth';
import { AppConfig, CoreModule, MetricsHttpModule } from '@app/core';
import { JobsModule } from '@app/jobs';
import { StorageModule } from '@app/storage';
import { WebhooksModule } from '@app/webhooks';
import { AdminAccess } from './admin/admin-access';
import { AdminController } from './admin/admin.controller';
import { ArchivesController } from './archives/archives.controller';
import { ApiKeysController } from './api-keys/api-keys.controller';
import { AuthController } from './auth/auth.controller';
import { FilesController } from './files/files.controller';
import { HealthController } from './health/health.controller';
import { DomainExceptionFilter } from './http/domain-exception.filter';
import { FilesService, JobViewMapper } from '@app/jobs';
import { JobsController } from './jobs/jobs.controller';
import { IdempotencyInterceptor } from './upload/idempotency.interceptor';
import { UploadController } from './upload/upload.controller';
import { UploadInterceptor } from './upload/upload.interceptor';
import { TusController } from './upload/tus/tus.controller';
import { TusUploads } from './upload/tus/tus-uploads.service';
import { JobsGateway } from './realtime/jobs.gateway';
import { rateLimitModule } from './http/rate-limit';
import { ApiMetrics } from './observability/api-metrics';
import { WebAppModule } from './web/web-app.module';
import { WebhooksController } from './webhooks/webhooks.controller';

/** The api process: REST, Socket.IO and the built web app on one port. No thumbnailing here. */
@Module({})
export class ApiModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: ApiModule,
      imports: [
        CoreModule.forRoot(config, 'api'),
        StorageModule.forRoot(config.storage),
        AuthModule.forRoot(config.database),
        JobsModule.forRoot(config.database),
        WebhooksModule.forRoot(config.database),
        TerminusModule,
        MetricsHttpModule,
        rateLimitModule,
        ...WebAppModule.forRoot(config.http.webRoot),
      ],
      controllers: [
        AuthController,
        UploadController,
        TusController,
        JobsController,
        FilesController,
        HealthController,
        AdminController,
        WebhooksController,
        ArchivesController,
        ApiKeysController,
      ],
      providers: [
        JobViewMapper,
        FilesService,
        JobsGateway,
        ApiMetrics,
        AdminAccess,
        UploadInterceptor,
        IdempotencyInterceptor,
        TusUploads,
        { provide: APP_FILTER, useClass: DomainExceptionFilter },
      ],
    };
  }
}
