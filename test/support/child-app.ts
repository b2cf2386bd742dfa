import { ChildProcess, spawn } from 'node:child_process';
import * as path from 'node:path';
import NODE_FLAGS from '../../scripts/node-flags.json';

const ROOT = path.resolve(__dirname, '../..');

/** The flags `npm start` and the container start node with (scripts/node-flags.json); NODE_GC=parallel drops them. */
export function nodeFlags(env: Record<string, string> = {}): string[] {
  return (env.NODE_GC ?? process.env.NODE_GC) === 'parallel' ? [] : NODE_FLAGS;
}

/**
 * One built app (dist/apps/<name>/main.js) running as a child process, its JSON log lines kept
 * for assertions. This is the production bundle, started the way an operator starts it.
 */
export class ChildApp {
  readonly lines: string[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private readonly process: ChildProcess;
  private waiters: { pattern: RegExp; resolve: (line: string) => void }[] = [];

  constructor(
    readonly name: 'api' | 'worker',
    readonly env: Record<string, string>,
  ) {
    this.process = spawn(process.execPath, [...nodeFlags(env), path.join(ROOT, 'dist/apps', name, 'main.js')], {
      cwd: env.CWD ?? ROOT,
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

  get pid(): number {
    return this.process.pid ?? -1;
  }

  get running(): boolean {
    return this.process.exitCode === null && this.process.signalCode === null;
  }

  /** Resolves with the first log line (past or future) matching `pattern`. */
  waitForLine(pattern: RegExp, timeoutMs = 20_000): Promise<string> {
    const seen = this.lines.find((line) => pattern.test(line));
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((waiter) => waiter.resolve !== done);
        reject(new Error(`${this.name} ${this.pid}: no log line matching ${pattern} within ${timeoutMs} ms.\n${this.tail()}`));
      }, timeoutMs);
      const done = (line: string) => {
        clearTimeout(timer);
        resolve(line);
      };
      this.waiters.push({ pattern, resolve: done });
      void this.exited.then(() => {
        if (this.waiters.some((waiter) => waiter.resolve === done)) {
          clearTimeout(timer);
          reject(new Error(`${this.name} ${this.pid} exited before logging ${pattern}.\n${this.tail()}`));
        }
      });
    });
  }

  kill(signal: NodeJS.Signals = 'SIGTERM'): void {
    if (this.running) this.process.kill(signal);
  }

  /** SIGTERM, then SIGKILL if it has not exited within `graceMs`. */
  async stop(graceMs = 15_000): Promise<void> {
    if (!this.running) return;
    this.kill('SIGTERM');
    const timer = setTimeout(() => this.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }

  tail(count = 30): string {
    return this.lines.slice(-count).join('\n');
  }

  private onLine(line: string): void {
    this.lines.push(line);
    if (process.env.THUMBS_TEST_ECHO) process.stdout.write(`[${this.name} ${this.pid}] ${line}\n`);
    for (const waiter of [...this.waiters]) {
      if (waiter.pattern.test(line)) {
        this.waiters = this.waiters.filter((other) => other !== waiter);
        waiter.resolve(line);
      }
    }
  }
}
