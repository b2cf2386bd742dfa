import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ApiClient } from './support/client';
import { clearRedisPrefix, testEnv, uniquePrefix } from './support/env';
import { media } from './support/media';
import { freePort } from './support/stack';

jest.setTimeout(240_000);

const ROOT = path.resolve(__dirname, '..');

/** `npm start` (scripts/start.mjs) as an operator runs it, its output (its own and its children's) kept by line. */
class Start {
  readonly lines: string[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private readonly process: ChildProcess;
  private waiters: { pattern: RegExp; from: number; resolve: (match: RegExpExecArray) => void }[] = [];

  constructor(readonly env: Record<string, string>) {
    this.process = spawn(process.execPath, [path.join(ROOT, 'scripts/start.mjs')], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.exited = new Promise((resolve) => this.process.once('exit', (code, signal) => resolve({ code, signal })));
    for (const stream of [this.process.stdout!, this.process.stderr!]) {
      let buffer = '';
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) => {
        buffer += chunk;
        let newline: number;
        while ((newline = buffer.indexOf('\n')) >= 0) {
          this.onLine(buffer.slice(0, newline));
          buffer = buffer.slice(newline + 1);
        }
      });
    }
  }

  get running(): boolean {
    return this.process.exitCode === null && this.process.signalCode === null;
  }

  kill(signal: NodeJS.Signals): void {
    if (this.running) this.process.kill(signal);
  }

  /** The first line from index `from` on matching `pattern` (past or future). */
  waitFor(pattern: RegExp, from = 0, timeoutMs = 60_000): Promise<RegExpExecArray> {
    for (let i = from; i < this.lines.length; i += 1) {
      const match = pattern.exec(this.lines[i]);
      if (match) return Promise.resolve(match);
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no line matching ${pattern} within ${timeoutMs} ms:\n${this.tail()}`)), timeoutMs);
      this.waiters.push({
        pattern,
        from,
        resolve: (match) => {
          clearTimeout(timer);
          resolve(match);
        },
      });
    });
  }

  /** The pid of the next `<name> started (pid N)` line from index `from` on. */
  async startedPid(name: 'api' | 'worker', from = 0): Promise<number> {
    return Number((await this.waitFor(new RegExp(`^\\[thumbs\\] ${name} started \\(pid (\\d+)\\)`), from))[1]);
  }

  tail(count = 40): string {
    return this.lines.slice(-count).join('\n');
  }

  private onLine(line: string): void {
    this.lines.push(line);
    if (process.env.THUMBS_TEST_ECHO) process.stdout.write(`[start] ${line}\n`);
    const index = this.lines.length - 1;
    for (const waiter of [...this.waiters]) {
      const match = index >= waiter.from ? waiter.pattern.exec(line) : null;
      if (match) {
        this.waiters = this.waiters.filter((other) => other !== waiter);
        waiter.resolve(match);
      }
    }
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function waitUntil(check: () => Promise<boolean> | boolean, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function healthy(baseUrl: string): Promise<boolean> {
  try {
    return (await fetch(`${baseUrl}/api/health`)).ok;
  } catch {
    return false;
  }
}

describe('npm start supervises the api and the worker (scripts/start.mjs, built apps, Redis, SQLite)', () => {
  let dir: string;
  let prefix: string;
  let env: Record<string, string>;
  let start: Start | undefined;

  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'thumbs-start-'));
    prefix = uniquePrefix(`start-${process.pid}-${Date.now().toString(36)}`);
    env = { ...testEnv(dir, prefix), PORT: String(await freePort()), LOG_LEVEL: 'info', WORKER_CONCURRENCY: '1', QUEUE_SWEEP_MS: '1000' };
  });

  afterEach(async () => {
    if (start?.running) {
      start.kill('SIGTERM');
      await start.exited;
    }
    await clearRedisPrefix(env.REDIS_URL, prefix);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('restarts a SIGKILLed worker and api with backoff, jobs complete afterwards, and SIGTERM stops every child', async () => {
    start = new Start(env);
    const baseUrl = `http://127.0.0.1:${env.PORT}`;
    const firstApi = await start.startedPid('api');
    const firstWorker = await start.startedPid('worker');
    await waitUntil(() => healthy(baseUrl), 'the api to answer');
    await start.waitFor(/consuming/);
    const user = await ApiClient.register(baseUrl);

    // The worker dies as the kernel's OOM killer would kill it.
    let mark = start.lines.length;
    process.kill(firstWorker, 'SIGKILL');
    await start.waitFor(/\[thumbs\] worker exited \(SIGKILL\) after [\d.]+ s; restarting in 1 s \(crash 1 of 5/, mark);
    const secondWorker = await start.startedPid('worker', mark);
    expect(secondWorker).not.toBe(firstWorker);
    expect(alive(firstApi)).toBe(true);
    expect(start.running).toBe(true);
    await start.waitFor(new RegExp(`Worker ${secondWorker} consuming`), mark);
    const [job] = await user.uploadOk([await media.jpeg()]);
    expect((await user.waitFor(job.id, ['completed', 'failed'], 60_000)).status).toBe('completed');

    // The api too.
    mark = start.lines.length;
    process.kill(firstApi, 'SIGKILL');
    await start.waitFor(/\[thumbs\] api exited \(SIGKILL\) after [\d.]+ s; restarting in 1 s/, mark);
    const secondApi = await start.startedPid('api', mark);
    await waitUntil(() => healthy(baseUrl), 'the restarted api to answer');
    expect((await user.job(job.id)).body.status).toBe('completed');
    const [after] = await user.uploadOk([await media.pngWithAlpha()]);
    expect((await user.waitFor(after.id, ['completed', 'failed'], 60_000)).status).toBe('completed');

    // Ctrl-C / SIGTERM: everything stops, exit code 0.
    start.kill('SIGTERM');
    expect(await start.exited).toEqual({ code: 0, signal: null });
    expect(alive(secondApi)).toBe(false);
    expect(alive(secondWorker)).toBe(false);
  });

  it('gives up with a clear message and a non-zero exit after 5 fast crashes in a row, waiting 1, 2, 4, 8 s between them', async () => {
    start = new Start(env);
    const api = await start.startedPid('api');
    const delays: number[] = [];
    let mark = 0;
    for (let crash = 1; crash <= 5; crash += 1) {
      const worker = await start.startedPid('worker', mark);
      mark = start.lines.length;
      process.kill(worker, 'SIGKILL');
      if (crash < 5) {
        const restart = await start.waitFor(/\[thumbs\] worker exited \(SIGKILL\) after [\d.]+ s; restarting in (\d+) s/, mark);
        delays.push(Number(restart[1]));
      }
    }
    expect(delays).toEqual([1, 2, 4, 8]);
    await start.waitFor(/thumbs stopped: worker exited \(SIGKILL\) 5 times in a row, each within 30 s of starting: giving up/, mark);
    const { code } = await start.exited;
    expect(code).toBe(1);
    expect(alive(api)).toBe(false);
  });
});
