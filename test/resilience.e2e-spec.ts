import Database from 'better-sqlite3';
import * as path from 'node:path';
import { deflateSync } from 'node:zlib';
import type { JobView } from '@app/shared';
import { ApiClient, UploadFile } from './support/client';
import { peakRssMiB } from './support/env';
import { PNG_SIGNATURE, pngChunk, pngHeader } from './support/image-fixtures';
import { media } from './support/media';
import { PrivateRedis } from './support/private-redis';
import { TestStack } from './support/stack';
import { StatusHistory } from './support/status-history';

jest.setTimeout(300_000);

/**
 * One user uploads a slow file and a quick one; once the slow one is processing, the worker gets
 * SIGTERM, and exits by the signal (Nest re-raises it once its shutdown hooks are done).
 */
async function sigtermDuringSlowJob(stack: TestStack) {
  const user = await ApiClient.register(stack.baseUrl);
  const [slow, next] = await user.uploadOk([await media.slowPng(), await media.jpeg()]);
  await user.waitFor(slow.id, ['processing']);
  const [worker] = stack.workers;
  worker.kill('SIGTERM');
  expect(await worker.exited).toEqual({ code: null, signal: 'SIGTERM' });
  return { user, slow, next, worker };
}

describe('worker shutdown (SIGTERM)', () => {
  it('finishes the running job, takes no new one, and exits cleanly', async () => {
    const stack = await TestStack.start({ workers: 1, env: { SHUTDOWN_GRACE_MS: '60000' } });
    try {
      const { user, slow, next, worker } = await sigtermDuringSlowJob(stack);
      await worker.waitForLine(/Worker stopped/);
      expect((await user.job(slow.id)).body.status).toBe('completed');
      expect((await user.job(next.id)).body.status).toBe('queued');
      await stack.startWorker();
      expect((await user.waitFor(next.id)).status).toBe('completed');
    } finally {
      await stack.stop();
    }
  });

  it('hands a job that outlasts the grace period back to the queue, where another worker finishes it', async () => {
    const stack = await TestStack.start({ workers: 1, env: { SHUTDOWN_GRACE_MS: '100' } });
    const history = new StatusHistory(path.join(stack.dir, 'thumbs.db'));
    try {
      const { user, slow, next, worker } = await sigtermDuringSlowJob(stack);
      await worker.waitForLine(/Handing job .* back to the queue/);
      await worker.waitForLine(/Worker stopped/);
      expect((await user.job(slow.id)).body.status).toBe('queued');
      await stack.startWorker();
      expect((await user.waitFor(slow.id)).status).toBe('completed');
      expect((await user.waitFor(next.id)).status).toBe('completed');
      expect(history.of(slow.id)).toEqual(['pending', 'queued', 'processing', 'queued', 'processing', 'completed']);
    } finally {
      history.close();
      await stack.stop();
    }
  });
});

describe('Redis restarted under load', () => {
  it('api and worker reconnect by themselves and every accepted upload ends completed or failed', async () => {
    const redis = await PrivateRedis.start();
    const stack = await TestStack.start({ workers: 1, env: { REDIS_URL: redis.url } });
    try {
      const users = await Promise.all([0, 1, 2].map(() => ApiClient.register(stack.baseUrl)));
      const accepted: { user: ApiClient; job: JobView }[] = [];
      let refused = 0;
      const load = Promise.all(
        users.map(async (user, u) => {
          for (let i = 0; i < 12; i += 1) {
            const files = [await media.jpeg(120 + i, 80 + u), ...(i % 4 === 0 ? [media.brokenJpeg()] : [])];
            const response = await user.upload(files);
            if (response.status === 201) accepted.push(...response.body.jobs.map((job) => ({ user, job })));
            else refused += 1;
            await new Promise((resolve) => setTimeout(resolve, 100));
          }
        }),
      );
      await new Promise((resolve) => setTimeout(resolve, 700));
      await redis.kill();
      await new Promise((resolve) => setTimeout(resolve, 1500));
      await redis.restart();
      await load;
      expect(accepted.length).toBeGreaterThan(30);
      for (const { user, job } of accepted) {
        const done = await user.waitFor(job.id, ['completed', 'failed'], 90_000);
        expect(done.status).toBe(job.originalFilename === 'broken.jpg' ? 'failed' : 'completed');
      }
      expect(stack.workers[0].running && stack.api!.running).toBe(true);
      // Uploads were accepted through the outage (stored and queued in the database).
      expect(refused).toBe(0);
      const health = await fetch(`${stack.baseUrl}/api/health`);
      expect(health.status).toBe(200);
    } finally {
      await stack.stop().catch(() => undefined);
      await redis.kill();
    }
  });
});

describe('database unavailable', () => {
  it('reports 503 in health and for uploads without hanging, and the worker keeps its jobs until the database is back', async () => {
    const stack = await TestStack.start({ workers: 1 });
    const file = path.join(stack.dir, 'thumbs.db');
    const user = await ApiClient.register(stack.baseUrl);
    const locker = new Database(file, { timeout: 5000 });
    try {
      // Another process holds the write lock: nothing else can write.
      locker.exec('BEGIN IMMEDIATE');
      const health = await fetch(`${stack.baseUrl}/api/health`);
      expect(health.status).toBe(503);
      const body = (await health.json()) as { status: string; error: Record<string, { status: string; message: string }> };
      expect(body.status).toBe('error');
      expect(body.error.database.status).toBe('down');
      expect(body.error.database.message).toMatch(/unavailable/i);

      const started = Date.now();
      const refused = await user.upload([await media.jpeg()]);
      expect(refused.status).toBe(503);
      expect((refused.body as unknown as { message: string }).message).toMatch(/database is unavailable/i);
      expect(refused.headers.get('retry-after')).toBeTruthy();
      expect(Date.now() - started).toBeLessThan(5000);
      locker.exec('ROLLBACK');

      // A job queued while the database works, then the database goes away while it waits.
      const [job] = await user.uploadOk([await media.slowPng()]);
      await user.waitFor(job.id, ['processing']);
      locker.exec('BEGIN IMMEDIATE');
      await stack.workers[0].waitForLine(/database is unavailable/i, 30_000);
      expect(stack.workers[0].running).toBe(true);
      await new Promise((resolve) => setTimeout(resolve, 2000));
      locker.exec('ROLLBACK');
      expect((await user.waitFor(job.id, ['completed', 'failed'], 60_000)).status).toBe('completed');
      expect((await fetch(`${stack.baseUrl}/api/health`)).status).toBe(200);
    } finally {
      if (locker.inTransaction) locker.exec('ROLLBACK');
      locker.close();
      await stack.stop();
    }
  });
});

describe('bad input from several users at once', () => {
  it('fails every broken file with a message, completes every good one, never stops the worker, and keeps memory bounded on bombs', async () => {
    const stack = await TestStack.start({ workers: 1 });
    try {
      const users = await Promise.all([0, 1, 2].map(() => ApiClient.register(stack.baseUrl)));
      const bombs: UploadFile[] = [
        { name: 'bomb.png', data: pngHeaderBomb(65535, 65535) },
        { name: 'bomb.webp', data: webpHeaderBomb(16383, 16383) },
        { name: 'bomb.gif', data: gifHeaderBomb(65535, 65535) },
        { name: 'bomb.jpg', data: jpegHeaderBomb(65500, 65500) },
      ];
      const worker = stack.workers[0];
      const before = peakRssMiB(worker.pid);
      const batches = await Promise.all(
        users.map(async (user, u) => {
          const files: UploadFile[] = [
            await media.jpeg(),
            media.brokenJpeg(),
            bombs[u],
            await media.animatedGif(),
            { ...bombs[3] },
            await media.pngWithAlpha(),
          ];
          return { user, files, jobs: await user.uploadOk(files) };
        }),
      );
      for (const { user, files, jobs } of batches) {
        for (const [i, job] of jobs.entries()) {
          const done = await user.waitFor(job.id);
          const broken = /bomb|broken/.test(files[i].name);
          expect(done.status).toBe(broken ? 'failed' : 'completed');
          if (broken) expect(done.errorMessage).toMatch(/\w+/);
          // Bombs with a well-formed header are named for their size; the bare JPEG header is merely damaged.
          if (/bomb\.(png|webp|gif)/.test(files[i].name)) expect(done).toMatchObject({ errorCode: 'too_many_pixels', retryable: false });
          if (/bomb\.(png|webp|gif)/.test(files[i].name)) expect(done.errorMessage).toMatch(/pixels/i);
        }
      }
      expect(worker.running).toBe(true);
      const growth = peakRssMiB(worker.pid) - before;
      // Decoding any of these bombs would take gigabytes.
      expect(growth).toBeLessThan(150);
    } finally {
      await stack.stop();
    }
  });
});

/** PNG header claiming width×height (8-bit RGBA), with a few bytes of data. */
function pngHeaderBomb(width: number, height: number): Buffer {
  return Buffer.concat([
    PNG_SIGNATURE,
    pngHeader(width, height, 8, 6),
    pngChunk('IDAT', deflateSync(Buffer.alloc(4096))),
    pngChunk('IEND'),
  ]);
}

/** Lossless WebP (VP8L) header declaring width×height. */
function webpHeaderBomb(width: number, height: number): Buffer {
  const vp8l = Buffer.alloc(5 + 63); // even: RIFF chunks are padded to even sizes
  vp8l[0] = 0x2f;
  const bits = (width - 1) | ((height - 1) << 14);
  vp8l.writeUInt32LE(bits >>> 0, 1);
  const chunk = Buffer.concat([Buffer.from('VP8L'), Buffer.alloc(4), vp8l]);
  chunk.writeUInt32LE(vp8l.length, 4);
  const riff = Buffer.concat([Buffer.from('RIFF'), Buffer.alloc(4), Buffer.from('WEBP'), chunk]);
  riff.writeUInt32LE(riff.length - 8, 4);
  return riff;
}

/** GIF whose logical screen and image descriptor claim width×height. */
function gifHeaderBomb(width: number, height: number): Buffer {
  const header = Buffer.alloc(13);
  header.write('GIF89a', 0, 'latin1');
  header.writeUInt16LE(width, 6);
  header.writeUInt16LE(height, 8);
  header[10] = 0x80; // global colour table, 2 entries
  const palette = Buffer.from([0, 0, 0, 255, 255, 255]);
  const descriptor = Buffer.alloc(10);
  descriptor[0] = 0x2c;
  descriptor.writeUInt16LE(width, 5);
  descriptor.writeUInt16LE(height, 7);
  return Buffer.concat([header, palette, descriptor, Buffer.from([0x02, 0x02, 0x44, 0x01, 0x00, 0x3b])]);
}

/** Baseline JPEG whose SOF0 declares width×height, followed by almost nothing. */
function jpegHeaderBomb(width: number, height: number): Buffer {
  const sof = Buffer.from([0xff, 0xc0, 0x00, 0x11, 0x08, 0, 0, 0, 0, 0x03, 0x01, 0x22, 0x00, 0x02, 0x11, 0x01, 0x03, 0x11, 0x01]);
  sof.writeUInt16BE(height, 5);
  sof.writeUInt16BE(width, 7);
  return Buffer.concat([Buffer.from([0xff, 0xd8]), sof, Buffer.alloc(64, 0), Buffer.from([0xff, 0xd9])]);
}
