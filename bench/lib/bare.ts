import { ChildProcess, execFile, fork } from 'node:child_process';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { nodeFlags } from '../../test/support/child-app';

const run = promisify(execFile);

export interface BareResult {
  ms: number;
  perFileMs: number[];
  sha256: string[];
}

/**
 * A bench script (bench/<script>.ts) in a child process of its own, asked over IPC: each message
 * `{ id, …request }` is answered by `{ id, …result }` or `{ id, error }`; the script says
 * `{ ready: true }` once loaded.
 */
export class ForkedScript<Request extends object, Result> {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (result: Result) => void; reject: (error: Error) => void }>();

  private constructor(private readonly child: ChildProcess) {}

  static async start<Request extends object, Result>(script: string, env: Record<string, string>): Promise<ForkedScript<Request, Result>> {
    const child = fork(path.join(__dirname, '..', script), [], {
      // The service's node flags, so that both sides collect garbage alike.
      execArgv: [...nodeFlags(), '-r', '@swc-node/register'],
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
      cwd: path.resolve(__dirname, '../..'),
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const forked = new ForkedScript<Request, Result>(child);
    await new Promise<void>((resolve, reject) => {
      child.once('exit', (code) => reject(new Error(`${script} exited (${code}) before it was ready`)));
      child.on('message', (message: { ready?: boolean; id?: number; error?: string }) => {
        if (message.ready) return resolve();
        const waiter = message.id === undefined ? undefined : forked.pending.get(message.id);
        if (!waiter) return;
        forked.pending.delete(message.id!);
        if (message.error) waiter.reject(new Error(message.error));
        else waiter.resolve(message as Result);
      });
    });
    return forked;
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  ask(request: Request): Promise<Result> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.child.send({ id, ...request });
    });
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.kill('SIGTERM');
    await exited;
  }
}

/** Drives bench/bare-sharp.ts in a child process with the given environment. */
export class BareSharp {
  private constructor(private readonly script: ForkedScript<{ files: readonly string[]; concurrency: number }, BareResult>) {}

  static async start(env: Record<string, string>): Promise<BareSharp> {
    return new BareSharp(await ForkedScript.start('bare-sharp.ts', env));
  }

  get pid(): number {
    return this.script.pid;
  }

  run(files: readonly string[], concurrency: number): Promise<BareResult> {
    return this.script.ask({ files, concurrency });
  }

  stop(): Promise<void> {
    return this.script.stop();
  }
}

/** One run of Debian's `vipsthumbnail` CLI: wall time and the CPU its processes spent. */
export interface VipsThumbnailResult {
  ms: number;
  cpuMs: number;
}

/**
 * A second baseline for the photo section: libvips' own command-line thumbnailer (Debian's
 * libvips-tools) making the same square JPEG (cover crop at the centre, quality 82, metadata
 * stripped) of the same files, `concurrency` processes each taking every n-th file. The CPU is
 * what bash's `times` reports for its children, so it counts every vipsthumbnail process in full.
 */
export async function vipsThumbnail(
  files: readonly string[],
  concurrency: number,
  size: number,
  outDir: string,
): Promise<VipsThumbnailResult> {
  const slices = Array.from({ length: Math.min(concurrency, files.length) }, (_, slice) =>
    files.filter((_file, index) => index % concurrency === slice),
  );
  const script = `vipsthumbnail "$@" --size ${size}x${size} --smartcrop centre -o '${outDir}/%s.jpg[Q=82,strip]' >/dev/null && times`;
  const started = performance.now();
  const outputs = await Promise.all(slices.map(async (slice) => (await run('bash', ['-c', script, 'bash', ...slice])).stdout));
  const ms = performance.now() - started;
  // `times`: the shell's user and system time, then its children's ("0m1.234s 0m0.056s").
  const seconds = (text: string) => {
    const [, minutes, secs] = /(\d+)m([\d.]+)s/.exec(text) ?? ['', '0', '0'];
    return Number(minutes) * 60 + Number(secs);
  };
  const cpuMs = outputs.reduce((sum, output) => {
    const children = output.trim().split('\n').at(-1) ?? '';
    const [user, system] = children.trim().split(/\s+/);
    return sum + (seconds(user) + seconds(system)) * 1000;
  }, 0);
  return { ms, cpuMs: Math.round(cpuMs) };
}
