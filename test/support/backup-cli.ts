import { ChildProcess, spawn } from 'node:child_process';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '../..');

export interface CliRun {
  child: ChildProcess;
  done: Promise<{ code: number | null; stdout: string; stderr: string }>;
}

/** `npm run backup|restore -- <dir>` as an operator runs it on the server: the built api bundle with a stack's environment. */
export function backupCli(env: Record<string, string>, command: 'backup' | 'restore', ...args: string[]): CliRun {
  const child = spawn(process.execPath, [path.join(ROOT, 'dist/apps/api/main.js'), command, ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
    child.once('exit', (code) => setImmediate(() => resolve({ code, stdout, stderr }))),
  );
  return { child, done };
}
