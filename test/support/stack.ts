import IORedis from 'ioredis';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { ChildApp } from './child-app';
import { clearRedisPrefix, testEnv, uniquePrefix } from './env';

let stackCount = 0;

export interface StackOptions {
  /** Worker processes to start with the api (default 1). */
  workers?: number;
  /** Extra environment for every process of the stack. */
  env?: Record<string, string>;
  /** Start no api (e.g. worker-only tests). */
  noApi?: boolean;
}

/**
 * A whole deployment for one test file: the built api and workers as child processes sharing a
 * temporary data folder (SQLite file, local storage, JWT secret) and a Redis key prefix unique to
 * this test run, on the real Redis at REDIS_URL.
 */
export class TestStack {
  api?: ChildApp;
  readonly workers: ChildApp[] = [];

  private constructor(
    readonly dir: string,
    readonly prefix: string,
    readonly port: number,
    readonly env: Record<string, string>,
  ) {}

  static async start(options: StackOptions = {}): Promise<TestStack> {
    stackCount += 1;
    const prefix = uniquePrefix(`${process.pid}-${stackCount}`);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'thumbs-test-'));
    const port = await freePort();
    const env: Record<string, string> = {
      ...testEnv(dir, prefix),
      LOG_LEVEL: 'info',
      PORT: String(port),
      WORKER_CONCURRENCY: '2',
      JOB_LOCK_MS: '4000',
      QUEUE_SWEEP_MS: '1000',
      ...options.env,
    };
    const stack = new TestStack(dir, prefix, port, env);
    try {
      if (!options.noApi) await stack.startApi();
      for (let i = 0; i < (options.workers ?? 1); i += 1) await stack.startWorker();
    } catch (error) {
      await stack.stop();
      throw error;
    }
    return stack;
  }

  get baseUrl(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async startApi(env: Record<string, string> = {}): Promise<ChildApp> {
    const api = new ChildApp('api', { ...this.env, ...env });
    this.api = api;
    await waitForHealthy(`http://127.0.0.1:${env.PORT ?? this.port}/api/health`, api);
    return api;
  }

  async startWorker(env: Record<string, string> = {}): Promise<ChildApp> {
    const worker = new ChildApp('worker', { ...this.env, ...env });
    this.workers.push(worker);
    await worker.waitForLine(/consuming/);
    return worker;
  }

  /** A Redis client on this stack's Redis (caller quits it). */
  redis(): IORedis {
    return new IORedis(this.env.REDIS_URL, { maxRetriesPerRequest: 1 });
  }

  async stop(): Promise<void> {
    await Promise.all([...this.workers, ...(this.api ? [this.api] : [])].map((app) => app.stop()));
    await clearRedisPrefix(this.env.REDIS_URL, this.prefix);
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/**
 * Polls the api's health `url` until the api itself is up: 2xx, or 503 with only `workers` down
 * (jobs wait and no worker runs yet: the api is ready, the deployment is not, and a test may start
 * its workers after its api). Fails at once if `app` exits meanwhile.
 */
export async function waitForHealthy(url: string, app: ChildApp, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!app.running) throw new Error(`${app.name} exited during start-up:\n${app.tail()}`);
    try {
      const response = await fetch(url);
      if (response.ok) return;
      if (response.status === 503) {
        const body = (await response.json()) as { error?: Record<string, unknown> };
        if (Object.keys(body.error ?? {}).join() === 'workers') return;
      }
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${app.name} not healthy at ${url} within ${timeoutMs} ms:\n${app.tail()}`);
}
