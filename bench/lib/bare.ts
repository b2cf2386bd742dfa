import { ChildProcess, fork } from 'node:child_process';
import * as path from 'node:path';

export interface BareResult {
  ms: number;
  perFileMs: number[];
  sha256: string[];
}

/** Drives bench/bare-sharp.ts in a child process with the given environment. */
export class BareSharp {
  private child?: ChildProcess;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (result: BareResult) => void; reject: (error: Error) => void }>();

  static async start(env: Record<string, string>): Promise<BareSharp> {
    const bare = new BareSharp();
    const child = fork(path.join(__dirname, '..', 'bare-sharp.ts'), [], {
      execArgv: ['-r', '@swc-node/register'],
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
      cwd: path.resolve(__dirname, '../..'),
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    bare.child = child;
    await new Promise<void>((resolve, reject) => {
      child.once('exit', (code) => reject(new Error(`bare-sharp exited (${code}) before it was ready`)));
      child.on('message', (message: { ready?: boolean; id?: number; error?: string } & Partial<BareResult>) => {
        if (message.ready) return resolve();
        const waiter = message.id === undefined ? undefined : bare.pending.get(message.id);
        if (!waiter) return;
        bare.pending.delete(message.id!);
        if (message.error) waiter.reject(new Error(message.error));
        else waiter.resolve(message as BareResult);
      });
    });
    return bare;
  }

  get pid(): number {
    return this.child?.pid ?? -1;
  }

  run(files: readonly string[], concurrency: number): Promise<BareResult> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.child!.send({ id, files, concurrency });
    });
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  }
}
