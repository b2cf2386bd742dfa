import Database from 'better-sqlite3';
import fc from 'fast-check';
import * as path from 'node:path';
import { ApiClient } from '../support/client';
import { ChildApp } from '../support/child-app';
import { media } from '../support/media';
import { PrivateRedis } from '../support/private-redis';
import { TestStack, waitForHealthy } from '../support/stack';

jest.setTimeout(600_000);

/** Waits until the stack's api answers its health check again. */
const healthy = (stack: TestStack) => waitForHealthy(`${stack.baseUrl}/api/health`, stack.api!, 30_000);

const linesSince = (app: ChildApp, from: number) => app.lines.slice(from);

/**
 * Property 37 with real outages: a real redis-server killed and restarted (losing its data), and
 * the SQLite database write-locked by another process, for random lengths at random moments.
 * Each run takes seconds of real outage, so 10 and 8 runs, not 100.
 */
describe('Property 37: connection failure recovery (Requirements 10.4)', () => {
  // Feature: thumbnail-generation-system, Property 37: on a Redis or database failure the system logs it and reconnects.
  it('Redis: api and worker log the failure, reconnect by themselves, and keep every job moving', async () => {
    const redis = await PrivateRedis.start();
    const stack = await TestStack.start({ workers: 1, env: { REDIS_URL: redis.url } });
    try {
      const user = await ApiClient.register(stack.baseUrl);
      await fc.assert(
        fc.asyncProperty(fc.integer({ min: 200, max: 2000 }), fc.boolean(), async (outageMs, duringJob) => {
          const api = stack.api!;
          const worker = stack.workers[0];
          const [apiMark, workerMark] = [api.lines.length, worker.lines.length];
          const inFlight = duringJob ? (await user.uploadOk([await media.slowPng()]))[0] : undefined;
          if (inFlight) await user.waitFor(inFlight.id, ['processing', 'completed', 'failed']);
          await redis.kill();
          await new Promise((resolve) => setTimeout(resolve, outageMs));
          await redis.restart();
          await healthy(stack);
          // Both noticed and both came back on their own (no restart of theirs).
          expect(api.running && worker.running).toBe(true);
          for (const [app, mark] of [
            [api, apiMark],
            [worker, workerMark],
          ] as const) {
            const since = linesSince(app, mark).join('\n');
            expect(since).toMatch(/Redis connection \\?"[a-z]+\\?": |Queue connection: /);
          }
          expect(linesSince(api, apiMark).join('\n')).toMatch(/Redis connection \\?"[a-z]+\\?" is back/);
          // Work goes on: the job caught in the outage ends, and a new one completes.
          if (inFlight)
            expect(['completed', 'failed']).toContain((await user.waitFor(inFlight.id, ['completed', 'failed'], 60_000)).status);
          const [next] = await user.uploadOk([await media.jpeg(64, 64)]);
          expect((await user.waitFor(next.id, ['completed', 'failed'], 60_000)).status).toBe('completed');
        }),
        { numRuns: 10 },
      );
    } finally {
      await stack.stop().catch(() => undefined);
      await redis.kill();
    }
  });

  // Feature: thumbnail-generation-system, Property 37 (database side; MongoDB cannot run here, so the SQLite file is made unavailable).
  it('database: health says so, the worker logs it and keeps the job until the database is back', async () => {
    const stack = await TestStack.start({ workers: 1 });
    const locker = new Database(path.join(stack.dir, 'thumbs.db'), { timeout: 5000 });
    try {
      const user = await ApiClient.register(stack.baseUrl);
      // The lock is taken once the slow file is processing; the worker's completion write starts when
      // its thumbnail is done, about this long later (measured here, without a lock), and waits 3 s
      // for the lock before it calls the database unavailable. Past `surely` the lock outlasts that
      // wait in any case (half the processing time again as a margin for a busy machine).
      const [warmUp] = await user.uploadOk([await media.slowPng()]);
      await user.waitFor(warmUp.id, ['processing']);
      const processingStarted = Date.now();
      await user.waitFor(warmUp.id, ['completed'], 60_000);
      const surely = 3000 + 1.5 * (Date.now() - processingStarted) + 500;
      await fc.assert(
        fc.asyncProperty(fc.integer({ min: 300, max: Math.ceil(surely) + 2000 }), async (outageMs) => {
          const worker = stack.workers[0];
          const mark = worker.lines.length;
          const [job] = await user.uploadOk([await media.slowPng()]);
          await user.waitFor(job.id, ['processing']);
          const unavailable = () => /database is unavailable/i.test(linesSince(worker, mark).join('\n'));
          locker.exec('BEGIN IMMEDIATE');
          try {
            expect((await fetch(`${stack.baseUrl}/api/health`)).status).toBe(503);
            await new Promise((resolve) => setTimeout(resolve, outageMs));
            // Past `surely` the lock is held until the completion write has given up waiting for it,
            // however long the thumbnail takes on a busy machine: the worker must say so (within 90 s).
            for (let waited = 0; outageMs > surely && !unavailable() && waited < 90_000; waited += 100) {
              await new Promise((resolve) => setTimeout(resolve, 100));
            }
          } finally {
            locker.exec('ROLLBACK');
          }
          const done = await user.waitFor(job.id, ['completed', 'failed'], 60_000);
          expect(done.status).toBe('completed');
          await healthy(stack);
          // When the lock outlasted the write's own wait for it, the worker said so and waited.
          if (outageMs > surely) expect(unavailable()).toBe(true);
          expect(worker.running).toBe(true);
        }),
        { numRuns: 8, examples: [[Math.ceil(surely) + 1000]] }, // at least one outage the write cannot wait out
      );
    } finally {
      if (locker.inTransaction) locker.exec('ROLLBACK');
      locker.close();
      await stack.stop();
    }
  });
});
