import { spawn } from 'node:child_process';

export interface ToolRunOptions {
  /** Aborting kills the process with SIGKILL and rejects at once with the signal's reason. */
  signal?: AbortSignal;
  /** Bytes of stdout kept in memory; a process writing more is killed and the run rejects. */
  maxStdoutBytes?: number;
  /** Receives stdout as it arrives instead of it being kept (for output read as a stream). */
  onStdout?: (chunk: Buffer) => void;
  /** Bytes of stderr kept, from the start: with `-loglevel error` the first lines name the fault. */
  maxStderrBytes?: number;
}

export interface ToolRunResult {
  exitCode: number | null;
  /** The signal that ended the process, when one did. */
  exitSignal: NodeJS.Signals | null;
  stdout: Buffer;
  stderr: string;
}

/** The process wrote more to stdout than the caller allowed; it was killed. */
export class ToolOutputLimitError extends Error {
  constructor(readonly limitBytes: number) {
    super(`The output was larger than ${limitBytes} bytes and was cut off.`);
    this.name = 'ToolOutputLimitError';
  }
}

const DEFAULT_MAX_STDOUT = 16 * 1024 * 1024;
const DEFAULT_MAX_STDERR = 16 * 1024;

/**
 * Runs a media tool (ffprobe, `ffmpeg -version`) without a shell: stdin closed, stdout capped,
 * stderr kept up to a limit. Abort kills the process (SIGKILL) and rejects without waiting for it;
 * Node still reaps it when it exits, so nothing is left behind as a zombie. Every listener this
 * adds to the signal is removed when the run settles.
 */
export function runTool(executable: string, args: readonly string[], options: ToolRunOptions = {}): Promise<ToolRunResult> {
  const { signal, onStdout } = options;
  const maxStdout = options.maxStdoutBytes ?? DEFAULT_MAX_STDOUT;
  const maxStderr = options.maxStderrBytes ?? DEFAULT_MAX_STDERR;

  return new Promise<ToolRunResult>((resolve, reject) => {
    if (signal?.aborted) {
      reject(abortReason(signal));
      return;
    }
    const child = spawn(executable, args, { stdio: ['ignore', 'pipe', 'pipe'], windowsHide: true });
    const stdout: Buffer[] = [];
    let stdoutBytes = 0;
    let stderr = '';
    let settled = false;

    const settle = (finish: () => void): void => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener('abort', onAbort);
      finish();
    };
    const kill = (): void => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    };
    function onAbort(): void {
      kill();
      settle(() => reject(abortReason(signal)));
    }
    signal?.addEventListener('abort', onAbort, { once: true });

    child.stdout.on('data', (chunk: Buffer) => {
      if (settled) return;
      if (onStdout) {
        onStdout(chunk);
        return;
      }
      stdoutBytes += chunk.length;
      if (stdoutBytes > maxStdout) {
        kill();
        settle(() => reject(new ToolOutputLimitError(maxStdout)));
        return;
      }
      stdout.push(chunk);
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (text: string) => {
      if (stderr.length < maxStderr) stderr += text.slice(0, maxStderr - stderr.length);
    });
    child.once('error', (error) => settle(() => reject(error)));
    child.once('close', (exitCode, exitSignal) => settle(() => resolve({ exitCode, exitSignal, stdout: Buffer.concat(stdout), stderr })));
  });
}

/** What a run stopped by `signal` rejects with: its reason when that is an error. */
export function abortReason(signal: AbortSignal | undefined): Error {
  const reason: unknown = signal?.reason;
  if (reason instanceof Error) return reason;
  return new Error(typeof reason === 'string' ? reason : 'The operation was aborted.');
}
