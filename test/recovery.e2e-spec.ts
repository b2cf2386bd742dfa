import { Queue } from 'bullmq';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { newId } from '@app/core';
import { ApiClient } from './support/client';
import { media } from './support/media';
import { TestStack } from './support/stack';
import { StatusHistory } from './support/status-history';

jest.setTimeout(180_000);

async function waitUntil(check: () => Promise<boolean>, timeoutMs = 30_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('queue recovery (built api and workers, Redis, SQLite)', () => {
  it('finishes a job whose worker was killed (SIGKILL) mid-job, on another worker, keeping the user’s order', async () => {
    const stack = await TestStack.start({ workers: 1, env: { JOB_LOCK_MS: '2000' } });
    const history = new StatusHistory(path.join(stack.dir, 'thumbs.db'));
    try {
      const user = await ApiClient.register(stack.baseUrl);
      const [slow, next] = await user.uploadOk([await media.slowPng(), await media.jpeg()]);
      await user.waitFor(slow.id, ['processing']);
      const [victim] = stack.workers;
      victim.kill('SIGKILL');
      await victim.exited;
      expect((await user.job(slow.id)).body.status).toBe('processing');
      await stack.startWorker();
      const done = await user.waitFor(slow.id, ['completed', 'failed'], 60_000);
      expect(done.status).toBe('completed');
      expect((await user.waitFor(next.id)).status).toBe('completed');
      // The next job started only after the recovered one finished.
      const changes = history.all();
      const slowDone = changes.find((c) => c.jobId === slow.id && c.status === 'completed')!.seq;
      const nextStarted = changes.find((c) => c.jobId === next.id && c.status === 'processing')!.seq;
      expect(nextStarted).toBeGreaterThan(slowDone);
      expect((await user.list('?status=processing')).body.items).toEqual([]);
    } finally {
      history.close();
      await stack.stop();
    }
  });

  it('rebuilds the queue from the database when Redis has lost its data', async () => {
    const stack = await TestStack.start({ workers: 0 });
    try {
      const users = [await ApiClient.register(stack.baseUrl), await ApiClient.register(stack.baseUrl)];
      const jobs = await Promise.all(
        users.map(async (user) => ({
          user,
          jobs: await user.uploadOk([await media.jpeg(), await media.pngWithAlpha(), await media.animatedGif()]),
        })),
      );
      // What a Redis restart without persistence does to this deployment's keys.
      const redis = stack.redis();
      const keys = await redis.keys(`${stack.prefix}:*`);
      expect(keys.length).toBeGreaterThan(0);
      await redis.del(...keys);
      redis.disconnect();
      // New uploads after the loss still queue behind the older jobs.
      const late = await users[0].uploadOk([await media.jpeg(100, 100)]);
      await stack.startWorker();
      for (const { user, jobs: list } of jobs) for (const job of list) expect((await user.waitFor(job.id)).status).toBe('completed');
      expect((await users[0].waitFor(late[0].id)).status).toBe('completed');
    } finally {
      await stack.stop();
    }
  });

  it('puts a user’s head job back on BullMQ when it went missing (crash between two steps)', async () => {
    const stack = await TestStack.start({ workers: 0 });
    try {
      const user = await ApiClient.register(stack.baseUrl);
      const [first, second] = await user.uploadOk([await media.jpeg(), await media.jpeg()]);
      const redis = stack.redis();
      const queue = new Queue('thumbnails', { connection: redis, prefix: stack.prefix });
      await (await queue.getJob(first.id))!.remove();
      await queue.close();
      redis.disconnect();
      const worker = await stack.startWorker();
      expect((await user.waitFor(first.id)).status).toBe('completed');
      expect((await user.waitFor(second.id)).status).toBe('completed');
      await worker.waitForLine(/Queue repaired/);
    } finally {
      await stack.stop();
    }
  });

  it('fails a job that keeps killing its workers instead of retrying it forever', async () => {
    const stack = await TestStack.start({ workers: 1, env: { JOB_LOCK_MS: '1500' } });
    try {
      const user = await ApiClient.register(stack.baseUrl);
      const [poison, next] = await user.uploadOk([await media.slowPng('poison.png'), await media.jpeg()]);
      // Kill whichever worker holds it, three times over.
      for (let round = 0; round < 3; round += 1) {
        await waitUntil(
          async () => (await user.job(poison.id)).body.status === 'processing' || (await user.job(poison.id)).body.status === 'failed',
          30_000,
          'poison job to run',
        );
        if ((await user.job(poison.id)).body.status === 'failed') break;
        const worker = stack.workers.find((w) => w.running)!;
        await worker.waitForLine(new RegExp(`Processing image job ${poison.id}`));
        worker.kill('SIGKILL');
        await worker.exited;
        await stack.startWorker();
      }
      const failed = await user.waitFor(poison.id, ['failed', 'completed'], 60_000);
      expect(failed.status).toBe('failed');
      expect(failed.errorMessage).toMatch(/stopped repeatedly/);
      expect(failed).toMatchObject({ errorCode: 'abandoned', retryable: true });
      expect((await user.waitFor(next.id)).status).toBe('completed');
    } finally {
      await stack.stop();
    }
  });
});

describe('files that belong to no job (built api and worker, local storage)', () => {
  it('removes old files of no job (an api or worker killed between two steps), keeps every job’s and the trash’s, and stops when most are strays', async () => {
    const stack = await TestStack.start({ workers: 0, env: { ORPHAN_SWEEP_INTERVAL: '1s', ORPHAN_MIN_AGE: '1h' } });
    const files = path.join(stack.dir, 'files');
    const write = (key: string, body = 'leftover') => {
      fs.mkdirSync(path.dirname(path.join(files, key)), { recursive: true });
      fs.writeFileSync(path.join(files, key), body);
      return key;
    };
    const exists = (key: string) => fs.existsSync(path.join(files, key));
    const ageAll = () => {
      const twoHoursAgo = new Date(Date.now() - 2 * 3600_000);
      for (const entry of fs.readdirSync(files, { recursive: true, withFileTypes: true }))
        if (entry.isFile()) fs.utimesSync(path.join(entry.parentPath, entry.name), twoHoursAgo, twoHoursAgo);
    };
    try {
      const user = await ApiClient.register(stack.baseUrl);
      await stack.startWorker();
      const [kept, trashed] = await user.uploadOk([await media.jpeg(), await media.jpeg(90, 60)]);
      for (const job of [kept, trashed]) expect((await user.waitFor(job.id)).status).toBe('completed');
      expect((await user.remove(trashed.id)).status).toBe(204);
      const jobFiles = [kept.id, trashed.id].flatMap((id) => [
        `uploads/${id}`,
        `processed/${id}/thumb.jpg`,
        `processed/${id}/preview.webp`,
      ]);
      for (const key of jobFiles) expect(exists(key)).toBe(true);
      // An original stored by an api killed before it recorded the job, renditions of a job deleted
      // meanwhile, both long ago; and files the sweep must not touch. (Set up with no worker
      // running, so that no sweep sees half of it.)
      let worker = stack.workers[0];
      await worker.stop();
      const orphans = [write(`uploads/${newId()}`), write(`processed/${newId()}/thumb.jpg`), write(`processed/${newId()}/preview.webp`)];
      ageAll();
      const young = write(`uploads/${newId()}`); // an upload request may still be sending its other files
      // Keys of other shapes: an operator's notes, another program's objects under uploads/.
      const strays = [
        write('uploads/.hidden'),
        write('notes.txt'),
        write('uploads/not a job'),
        write('uploads/README'),
        write('uploads/keep-2024'),
      ];
      worker = await stack.startWorker();
      await worker.waitForLine(/Removed 3 stored file\(s\) \(24 bytes\) that belonged to no job/);
      for (const key of orphans) expect(exists(key)).toBe(false);
      for (const key of [...jobFiles, young, ...strays]) expect(exists(key)).toBe(true);
      const view = (await user.job(kept.id)).body;
      for (const url of [view.thumbnailUrl!, view.originalUrl!]) expect((await user.fetchBytes(url)).status).toBe(200);

      // More orphans than crashes leave is not cleaned: it is a database restored from an older
      // backup, or the wrong one, and a person should look.
      await worker.stop();
      const many = Array.from({ length: 25 }, () => write(`uploads/${newId()}`));
      ageAll();
      worker = await stack.startWorker();
      await worker.waitForLine(/Orphan sweep: 26 of \d+ stored files older than 1 h belong to no job .*Nothing was deleted/);
      for (const key of [...many, young, ...jobFiles]) expect(exists(key)).toBe(true);

      // A worker given an empty database for this storage (a wrong DATABASE_URL): nothing is
      // deleted, however few the files.
      await worker.stop();
      for (const key of many) fs.rmSync(path.join(files, key));
      worker = await stack.startWorker({ DATABASE_URL: `sqlite:${path.join(stack.dir, 'other.db')}` });
      await worker.waitForLine(/Orphan sweep: none of the \d+ stored files older than 1 h belongs to a job .*Nothing was deleted/);
      for (const key of [young, ...jobFiles]) expect(exists(key)).toBe(true);
    } finally {
      await stack.stop();
    }
  });
});

describe('retries and time limits (built api and workers)', () => {
  it('retries a transient failure with backoff and then completes', async () => {
    const stack = await TestStack.start({ workers: 1 });
    const history = new StatusHistory(path.join(stack.dir, 'thumbs.db'));
    const fs = await import('node:fs');
    const blocker = path.join(stack.dir, 'files', 'processed');
    try {
      // A file where the thumbnails folder belongs: writing any thumbnail fails (ENOTDIR/EEXIST) until it goes.
      fs.mkdirSync(path.dirname(blocker), { recursive: true });
      fs.writeFileSync(blocker, 'in the way');
      const user = await ApiClient.register(stack.baseUrl);
      const [job] = await user.uploadOk([await media.jpeg()]);
      await waitUntil(() => Promise.resolve(history.of(job.id).filter((s) => s === 'processing').length >= 2), 30_000, 'a second attempt');
      expect(history.of(job.id).slice(0, 5)).toEqual(['pending', 'queued', 'processing', 'queued', 'processing']);
      fs.rmSync(blocker);
      const done = await user.waitFor(job.id, ['completed', 'failed'], 60_000);
      expect(done.status).toBe('completed');
      expect(Number(history.job(job.id)!.attempts)).toBeGreaterThanOrEqual(2);
      await stack.workers[0].waitForLine(/transient error, will retry/);
    } finally {
      history.close();
      await stack.stop();
    }
  });

  it('fails a job that runs past JOB_TIMEOUT_MS with a message, and the worker goes on', async () => {
    const stack = await TestStack.start({ workers: 1, env: { JOB_TIMEOUT_MS: '300' } });
    try {
      const user = await ApiClient.register(stack.baseUrl);
      const [slow, next] = await user.uploadOk([await media.slowPng(), await media.jpeg()]);
      const failed = await user.waitFor(slow.id);
      expect(failed.status).toBe('failed');
      expect(failed.errorMessage).toBe('Processing took longer than 300 ms and was stopped.');
      expect(failed).toMatchObject({ errorCode: 'timeout', retryable: true });
      expect((await user.waitFor(next.id)).status).toBe('completed');
      expect(stack.workers[0].running).toBe(true);
    } finally {
      await stack.stop();
    }
  });
});
