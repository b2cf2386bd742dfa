import { Test, TestingModule } from '@nestjs/testing';
import { Worker } from 'bullmq';
import fc from 'fast-check';
import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import sharp from 'sharp';
import { AppConfig, CoreModule, loadConfig, newId, RedisConnections } from '@app/core';
import { StorageModule } from '@app/storage';
import { JobsRepository } from '../jobs.repository';
import { JobsModule } from '../jobs.module';
import { JobsService } from '../jobs.service';
import { UploadIntake } from '../intake/upload-intake';
import { THUMBNAIL_QUEUE } from '../queue/job-queue';
import { JobRunner, Thumbnailer } from './job-runner';

/**
 * The limit, and jobs well inside or well past it: a job planned for a quarter of the limit still
 * ends inside it on a busy two-core machine (spawning, the JPEG and the database write take their
 * time there), and one planned past it cannot finish before the limit.
 */
const TIMEOUT_MS = 600;

/**
 * Property 38 against the real runner, queue (BullMQ on Redis), SQLite and disk storage: the
 * thumbnailer here runs a real child process for as long as the generated job needs and stops it
 * when told to, as the real thumbnailers do (ffmpeg is killed, sharp has its own timeout).
 */
describe('JobRunner time limit (real Redis, SQLite, storage)', () => {
  let dir: string;
  let module: TestingModule;
  let worker: Worker;
  let runner: JobRunner;
  const children = new Map<string, ChildProcess>();
  let plannedMs = 0;

  const thumbnailer: Thumbnailer = ({ job, signal }) =>
    new Promise<Buffer>((resolve, reject) => {
      const child = spawn('sleep', [(plannedMs / 1000).toFixed(3)], { stdio: 'ignore' });
      children.set(job.id, child);
      const onAbort = () => {
        child.kill('SIGKILL');
        reject(signal.reason as Error);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      child.once('exit', (code) => {
        signal.removeEventListener('abort', onAbort);
        if (code === 0)
          sharp({ create: { width: 8, height: 8, channels: 3, background: '#000' } })
            .jpeg()
            .toBuffer()
            .then(resolve, reject);
      });
    });

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'thumbs-runner-'));
    const config = loadConfig(
      {
        NODE_ENV: 'test',
        DATA_DIR: dir,
        DATABASE_URL: `sqlite:${path.join(dir, 'thumbs.db')}`,
        STORAGE_URL: `file:${path.join(dir, 'files')}`,
        REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
        QUEUE_PREFIX: `${process.env.THUMBS_TEST_RUN ?? 'local'}-runner-${process.pid}`,
        JOB_TIMEOUT_MS: String(TIMEOUT_MS),
        LOG_LEVEL: 'silent',
      },
      dir,
    );
    module = await Test.createTestingModule({
      imports: [CoreModule.forRoot(config, 'worker'), StorageModule.forRoot(config.storage), JobsModule.forRoot(config.database)],
    }).compile();
    await module.init();
    runner = module.get(JobRunner);
    const redis = module.get(RedisConnections);
    worker = new Worker(THUMBNAIL_QUEUE, (job, token) => runner.run(job, token, thumbnailer), {
      connection: redis.create('worker'),
      prefix: module.get(AppConfig).redis.prefix,
      concurrency: 2,
    });
  });

  afterAll(async () => {
    await worker?.close();
    const redis = module?.get(RedisConnections).get('commands');
    const keys = redis ? await redis.keys(`${module.get(AppConfig).redis.prefix}:*`) : [];
    if (keys.length > 0) await redis.del(...keys);
    await module?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  async function runOne(durationMs: number): Promise<{ status: string; errorMessage: string | null; child: ChildProcess }> {
    plannedMs = durationMs;
    const upload = await module
      .get(UploadIntake)
      .receive(Readable.from([Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3])]), 'x.jpg', 'image/jpeg');
    if (!('stored' in upload)) throw new Error('intake refused the file');
    const [job] = await module.get(JobsService).createFromUploads(newId(), [upload.stored], null);
    const repository = module.get(JobsRepository);
    for (;;) {
      const current = await repository.findById(job.id);
      if (current && (current.status === 'completed' || current.status === 'failed')) {
        return { status: current.status, errorMessage: current.errorMessage, child: children.get(job.id)! };
      }
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  // Feature: thumbnail-generation-system, Property 38: a job over the time limit is failed and its resources released.
  it('Property 38: job timeout handling (Requirements 10.5)', async () => {
    const duration = fc.oneof(fc.integer({ min: 10, max: TIMEOUT_MS / 4 }), fc.integer({ min: TIMEOUT_MS * 1.25, max: TIMEOUT_MS * 1.5 }));
    await fc.assert(
      fc.asyncProperty(duration, async (ms) => {
        const { status, errorMessage, child } = await runOne(ms);
        if (ms > TIMEOUT_MS) {
          expect(status).toBe('failed');
          expect(errorMessage).toBe(`Processing took longer than ${TIMEOUT_MS} ms and was stopped.`);
          // The work was stopped, not left running: its process is gone.
          await new Promise((resolve) =>
            child.exitCode !== null || child.signalCode !== null ? resolve(undefined) : child.once('exit', resolve),
          );
          expect(child.signalCode).toBe('SIGKILL');
        } else {
          expect(status).toBe('completed');
          expect(errorMessage).toBeNull();
        }
        // The worker's slot is free again.
        for (let i = 0; i < 100 && runner.activeCount > 0; i += 1) await new Promise((resolve) => setTimeout(resolve, 5));
        expect(runner.activeCount).toBe(0);
      }),
      { numRuns: 60 },
    );
  }, 180_000);
});
