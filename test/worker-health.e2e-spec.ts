import * as fs from 'node:fs';
import { launchChromium, openPage, PASSWORD, signIn } from './support/browser';
import { ApiClient } from './support/client';
import { ChildApp } from './support/child-app';
import { media } from './support/media';
import { PrivateRedis } from './support/private-redis';
import { freePort, TestStack } from './support/stack';

jest.setTimeout(180_000);

interface Health {
  status: string;
  details: Record<string, Record<string, unknown>>;
}

/** Each thread of a process by id: its name and nice value (/proc/<pid>/task/<tid>/stat). */
function niceOfThreads(pid: number): Map<number, { name: string; nice: number }> {
  const threads = new Map<number, { name: string; nice: number }>();
  for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
    const stat = fs.readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
    // "tid (name) state ppid …": the nice value is the 19th field, the 17th after the name.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    threads.set(Number(tid), { name: stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')), nice: Number(fields[16]) });
  }
  return threads;
}

async function health(stack: TestStack): Promise<{ status: number; body: Health }> {
  const response = await fetch(`${stack.baseUrl}/api/health`);
  return { status: response.status, body: (await response.json()) as Health };
}

async function waitForHealth(stack: TestStack, status: number, timeoutMs = 60_000): Promise<Health> {
  const deadline = Date.now() + timeoutMs;
  let last: { status: number; body: Health } | undefined;
  while (Date.now() < deadline) {
    last = await health(stack);
    if (last.status === status) return last.body;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`health did not answer ${status} within ${timeoutMs} ms; last: ${JSON.stringify(last)}`);
}

describe('health without a worker (built api and workers, Redis, SQLite)', () => {
  it('is ok with no worker while nothing waits, 503 "workers down" while jobs wait, ok again once a worker runs', async () => {
    const stack = await TestStack.start({ workers: 0 });
    try {
      const idle = await health(stack);
      expect(idle.status).toBe(200);
      expect(idle.body.details.workers).toMatchObject({ status: 'up', count: 0 });

      const user = await ApiClient.register(stack.baseUrl);
      const [job] = await user.uploadOk([await media.jpeg()]);
      const degraded = await health(stack);
      expect(degraded.status).toBe(503);
      expect(degraded.body.status).toBe('error');
      expect(degraded.body.details.workers).toMatchObject({ status: 'down', count: 0, waiting: 1 });
      expect(degraded.body.details.workers.message).toMatch(/no worker is running/i);
      // What is up stays up: only the workers are named.
      expect(degraded.body.details.database.status).toBe('up');
      expect(degraded.body.details.redis.status).toBe('up');

      await stack.startWorker();
      const ok = await waitForHealth(stack, 200);
      expect(ok.details.workers).toMatchObject({ status: 'up', count: 1 });
      expect((await user.waitFor(job.id)).status).toBe('completed');
    } finally {
      await stack.stop();
    }
  });

  it('turns 503 once a SIGKILLed worker’s heartbeat has expired while its job still shows processing', async () => {
    const stack = await TestStack.start({ workers: 1 });
    try {
      const user = await ApiClient.register(stack.baseUrl);
      const [slow] = await user.uploadOk([await media.slowPng()]);
      await user.waitFor(slow.id, ['processing']);
      expect((await health(stack)).status).toBe(200);
      const [worker] = stack.workers;
      worker.kill('SIGKILL');
      await worker.exited;
      // The heartbeat lives 15 s after the last renewal.
      const down = await waitForHealth(stack, 503, 45_000);
      expect(down.details.workers).toMatchObject({ status: 'down', count: 0, waiting: 1 });
      expect((await user.job(slow.id)).body.status).toBe('processing');
      await stack.startWorker();
      await waitForHealth(stack, 200);
      expect((await user.waitFor(slow.id, ['completed', 'failed'], 90_000)).status).toBe('completed');
    } finally {
      await stack.stop();
    }
  });

  it('runs the worker, and the threads it starts, at a lower CPU priority than the api (WORKER_NICE, 10 by default)', async () => {
    const stack = await TestStack.start({ workers: 1 });
    try {
      const user = await ApiClient.register(stack.baseUrl);
      // Jobs make the worker start its thread pools (libuv's, libvips').
      const jobs = await user.uploadOk([await media.jpeg(640, 480, '#3a7bd5'), await media.pngWithAlpha()]);
      for (const job of jobs) expect((await user.waitFor(job.id)).status).toBe('completed');
      const [worker] = stack.workers;
      const threads = niceOfThreads(worker.pid);
      expect(threads.get(worker.pid)).toEqual({ name: expect.any(String), nice: 10 });
      const pools = [...threads.values()].filter((thread) => /libvips|libuv/i.test(thread.name));
      expect(pools.length).toBeGreaterThan(0);
      expect(pools.map((thread) => thread.nice)).toEqual(pools.map(() => 10));
      // And every other thread of the worker, whether it was there before the setting or came after.
      expect([...threads.values()].filter((thread) => thread.nice !== 10)).toEqual([]);
      expect(niceOfThreads(stack.api!.pid).get(stack.api!.pid)?.nice).toBe(0);
    } finally {
      await stack.stop();
    }
  });

  it('says "No worker is running: jobs will wait" in the web app while that lasts (headless Chromium)', async () => {
    const stack = await TestStack.start({ workers: 0 });
    const browser = await launchChromium();
    try {
      const email = `no-worker-${Date.now()}@example.com`;
      const user = await ApiClient.register(stack.baseUrl, email, PASSWORD);
      const [job] = await user.uploadOk([await media.jpeg()]);
      const { page, context } = await openPage(browser);
      await signIn(page, stack.baseUrl, email);
      const notice = page.getByTestId('no-worker');
      await notice.waitFor({ timeout: 45_000 });
      expect(await notice.textContent()).toContain('No worker is running: jobs will wait');
      expect(await page.locator('[data-testid="connection-indicator"]').getAttribute('data-state')).toBe('connected');
      await stack.startWorker();
      expect((await user.waitFor(job.id, ['completed', 'failed'], 60_000)).status).toBe('completed');
      // The next check (every 30 s) finds the worker.
      await notice.waitFor({ state: 'detached', timeout: 60_000 });
      await context.close();
    } finally {
      await browser.close();
      await stack.stop();
    }
  });
});

describe('started or stopped while Redis is down', () => {
  it('an api starts (503 naming Redis) and stops on SIGTERM; a worker waits for Redis instead of exiting, then works', async () => {
    const redis = await PrivateRedis.start();
    const stack = await TestStack.start({ workers: 0, env: { REDIS_URL: redis.url } });
    let second: ChildApp | undefined;
    try {
      await redis.kill();
      // A second api, started now: it listens and says what is down.
      const port = await freePort();
      second = new ChildApp('api', { ...stack.env, PORT: String(port) });
      let answer: Response | undefined;
      for (let i = 0; i < 150 && !answer; i += 1) {
        answer = await fetch(`http://127.0.0.1:${port}/api/health`).catch(() => undefined);
        if (!answer) await new Promise((resolve) => setTimeout(resolve, 200));
      }
      expect(answer?.status).toBe(503);
      expect(((await answer!.json()) as { error: Record<string, unknown> }).error.redis).toMatchObject({ status: 'down' });
      // SIGTERM with Redis down: it exits (a QUIT waited for Redis for ever).
      second.kill('SIGTERM');
      const exit = await Promise.race([second.exited, new Promise((resolve) => setTimeout(() => resolve('still running'), 10_000))]);
      // Nest closes the app, then raises the signal again.
      expect(exit).toEqual({ code: null, signal: 'SIGTERM' });

      const worker = new ChildApp('worker', stack.env);
      stack.workers.push(worker);
      await worker.waitForLine(/Waiting for Redis at 127\.0\.0\.1:\d+ \(connect ECONNREFUSED/);
      await new Promise((resolve) => setTimeout(resolve, 3000));
      expect(worker.running).toBe(true);
      expect(worker.tail()).not.toContain('MaxRetriesPerRequestError');

      await redis.restart();
      await worker.waitForLine(/consuming/);
      const user = await ApiClient.register(stack.baseUrl);
      const [job] = await user.uploadOk([await media.jpeg(30, 20)]);
      expect((await user.waitFor(job.id, ['completed'], 60_000)).status).toBe('completed');
    } finally {
      if (second?.running) await second.stop();
      // Up (once) for the stack's clean-up, then gone.
      await redis.kill();
      await redis.restart();
      await stack.stop();
      await redis.kill();
    }
  });
});
