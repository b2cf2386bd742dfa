import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { Logger } from 'nestjs-pino';
import { ConfigError, loadConfig } from '@app/core';
import { WorkerModule } from './worker.module';

async function bootstrap(): Promise<void> {
  const config = loadConfig();
  // An HTTP application for /metrics and /health, listening only when WORKER_METRICS_PORT is set.
  const app = await NestFactory.create(WorkerModule.forRoot(config), { bufferLogs: true });
  app.useLogger(app.get(Logger));
  app.enableShutdownHooks();
  const port = config.worker.metricsPort;
  if (port > 0) {
    await app.listen(port);
    app.get(Logger).log(`Metrics and health on :${port} (/metrics, /health)`, 'WorkerObservability');
  } else {
    await app.init();
    // listen() ends the buffering of start-up logs; without a port, init() does not.
    app.flushLogs();
  }
}

bootstrap().catch((error: unknown) => {
  // Before the logger exists: print plainly, and make a config problem obvious.
  console.error(error instanceof ConfigError ? error.message : error);
  process.exit(1);
});
