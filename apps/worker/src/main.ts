import 'reflect-metadata';
import * as fs from 'node:fs';
import * as os from 'node:os';
import { NestFactory } from '@nestjs/core';
import pino from 'pino';
import { Logger } from 'nestjs-pino';
import { ConfigError, loadConfig, waitForRedis } from '@app/core';
import { WorkerModule } from './worker.module';

async function bootstrap(): Promise<void> {
  const config = loadConfig();
  // Its start reads and writes Redis (queue rebuild, heartbeat): started while Redis is down, it
  // waits for it rather than exiting (a supervisor would restart it until it gave up).
  const early = pino({ level: config.logLevel, base: { app: 'worker', pid: process.pid } });
  await waitForRedis(config.redis.url, (message) => early.warn({ context: 'Redis' }, message));
  // Before any job: the threads that make thumbnails are started by those there are now, and inherit it.
  const priorityProblem = lowerPriority(config.worker.nice);
  // An HTTP application for /metrics and /health, listening only when WORKER_METRICS_PORT is set.
  const app = await NestFactory.create(WorkerModule.forRoot(config), { bufferLogs: true });
  app.useLogger(app.get(Logger));
  app.enableShutdownHooks();
  if (priorityProblem) app.get(Logger).warn(priorityProblem, 'WorkerPriority');
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

/**
 * Lowers this process's CPU priority to `nice` (WORKER_NICE) so that the api, on the same machine,
 * gets a core first: measured with the bench on 2 cores (two interleaved pairs of runs), the api's
 * event-loop delay p99 during photo runs 7.6–9.8 → 5.5–6.3 ms and during bursts of small images
 * 16.2–21.6 → 13.2–14.5 ms, throughput the same or better (photos 0.79–0.81 → 0.80–0.84×). On
 * Linux a nice value belongs to a thread, and a new thread takes its creator's: every thread there
 * is already (Node's pool among them, which starts libvips' threads) is lowered. Lowering never
 * needs a privilege; a failure is reported, not fatal.
 */
function lowerPriority(nice: number): string | null {
  if (nice === 0) return null;
  try {
    const threads = process.platform === 'linux' ? fs.readdirSync('/proc/self/task').map(Number) : [0];
    for (const thread of threads) {
      try {
        os.setPriority(thread, Math.max(os.getPriority(thread), nice));
      } catch (error) {
        // A thread that ended meanwhile is no matter; this one is.
        if (thread === 0 || thread === process.pid) throw error;
      }
    }
    return null;
  } catch (error) {
    return `Could not lower the worker's CPU priority to nice ${nice}: ${(error as Error).message}`;
  }
}

bootstrap().catch((error: unknown) => {
  // Before the logger exists: print plainly, and make a config problem obvious.
  console.error(error instanceof ConfigError ? error.message : error);
  process.exit(1);
});
