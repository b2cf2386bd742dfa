import { INestApplication, ValidationPipe } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { Logger } from 'nestjs-pino';
import { AppConfig } from '@app/core';
import { ApiModule } from './api.module';
import { ConfiguredIoAdapter } from './realtime/configured-io.adapter';

/**
 * Builds the api application from a loaded config: global prefix, validation, Swagger. Shared by
 * main.ts and the tests, which start the very same app.
 */
export async function createApiApp(config: AppConfig): Promise<NestExpressApplication> {
  const app = await NestFactory.create<NestExpressApplication>(ApiModule.forRoot(config), { bufferLogs: true });
  configureApiApp(app);
  return app;
}

export function configureApiApp(app: INestApplication & Partial<NestExpressApplication>): void {
  app.useLogger(app.get(Logger));
  app.useWebSocketAdapter(new ConfiguredIoAdapter(app, app.get(AppConfig)));
  app.setGlobalPrefix('api', { exclude: ['metrics'] });
  app.useGlobalPipes(
    new ValidationPipe({
      whitelist: true,
      forbidNonWhitelisted: true,
      transform: true,
      // Objects where strings belong (e.g. {"email": {"$gt": ""}}) fail IsString; never coerce them.
      transformOptions: { enableImplicitConversion: false },
    }),
  );
  app.useBodyParser?.('json', { limit: '100kb' });
  app.disable?.('x-powered-by');
  app.enableShutdownHooks();

  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('thumbs')
      .setDescription('Upload images and videos, get 128×128 JPEG thumbnails. Real-time status over Socket.IO (`job:status`).')
      .setVersion('1.0')
      .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' })
      .build(),
  );
  SwaggerModule.setup('api/docs', app, document, { jsonDocumentUrl: 'api/docs-json', useGlobalPrefix: false });
}
