import { DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { TerminusModule } from '@nestjs/terminus';
import { AuthModule } from '@app/auth';
import { AppConfig, CoreModule } from '@app/core';
import { JobsModule } from '@app/jobs';
import { StorageModule } from '@app/storage';
import { AuthController } from './auth/auth.controller';
import { FilesController } from './files/files.controller';
import { HealthController } from './health/health.controller';
import { DomainExceptionFilter } from './http/domain-exception.filter';
import { JobViewMapper } from './jobs/job-view.mapper';
import { JobsController } from './jobs/jobs.controller';
import { IdempotencyInterceptor } from './upload/idempotency.interceptor';
import { UploadController } from './upload/upload.controller';
import { UploadInterceptor } from './upload/upload.interceptor';

/** The api process: REST (and, with the web issue, Socket.IO and the web app). No thumbnailing here. */
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
        TerminusModule,
      ],
      controllers: [AuthController, UploadController, JobsController, FilesController, HealthController],
      providers: [JobViewMapper, UploadInterceptor, IdempotencyInterceptor, { provide: APP_FILTER, useClass: DomainExceptionFilter }],
    };
  }
}
