import { DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { ServeStaticModule } from '@nestjs/serve-static';
import { TerminusModule } from '@nestjs/terminus';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { AuthModule } from '@app/auth';
import { AppConfig, CoreModule } from '@app/core';
import { JobsModule } from '@app/jobs';
import { StorageModule } from '@app/storage';
import { AdminAccess } from './admin/admin-access';
import { AdminController } from './admin/admin.controller';
import { AuthController } from './auth/auth.controller';
import { FilesController } from './files/files.controller';
import { HealthController } from './health/health.controller';
import { DomainExceptionFilter } from './http/domain-exception.filter';
import { JobViewMapper } from './jobs/job-view.mapper';
import { JobsController } from './jobs/jobs.controller';
import { IdempotencyInterceptor } from './upload/idempotency.interceptor';
import { UploadController } from './upload/upload.controller';
import { UploadInterceptor } from './upload/upload.interceptor';
import { JobsGateway } from './realtime/jobs.gateway';
import { rateLimitModule } from './http/rate-limit';
import { ApiMetrics } from './observability/api-metrics';
import { MetricsController } from './observability/metrics.controller';

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
        TerminusModule,
        rateLimitModule,
        ...webApp(config.http.webRoot),
      ],
      controllers: [
        AuthController,
        UploadController,
        JobsController,
        FilesController,
        HealthController,
        MetricsController,
        AdminController,
      ],
      providers: [
        JobViewMapper,
        JobsGateway,
        ApiMetrics,
        AdminAccess,
        UploadInterceptor,
        IdempotencyInterceptor,
        { provide: APP_FILTER, useClass: DomainExceptionFilter },
      ],
    };
  }
}

/**
 * The production build of the web app at `/`, with every other path that is not the API, Socket.IO
 * or metrics answered by index.html (client-side routes). Hashed bundles are cached for a year,
 * index.html never. Absent when the web app has not been built (development uses `ng serve`).
 */
function webApp(root: string) {
  if (!fs.existsSync(path.join(root, 'index.html'))) return [];
  return [
    ServeStaticModule.forRoot({
      rootPath: root,
      exclude: ['/api/{*path}', '/socket.io/{*path}', '/metrics'],
      serveStaticOptions: {
        index: 'index.html',
        setHeaders: (res: { setHeader(name: string, value: string): void }, file: string) => {
          const hashed = /[.-][A-Z0-9]{8,}\.(js|css|woff2?|svg|png)$/i.test(file);
          res.setHeader('Cache-Control', hashed ? 'public, max-age=31536000, immutable' : 'no-cache');
        },
      },
    }),
  ];
}
