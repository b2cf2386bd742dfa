import { getEventListeners } from 'node:events';
import { childProcesses, waitFor } from '@test/support/video-fixtures';
import { runTool, ToolOutputLimitError } from './tool-process';

class Stop extends Error {}

describe('runTool', () => {
  it('returns stdout, stderr and the exit code', async () => {
    const result = await runTool('/bin/sh', ['-c', 'printf out; printf err >&2; exit 3']);
    expect(result).toMatchObject({ exitCode: 3, exitSignal: null, stderr: 'err' });
    expect(result.stdout.toString()).toBe('out');
  });

  it('kills the process with SIGKILL when the signal aborts, rejects at once and leaves no process behind', async () => {
    const controller = new AbortController();
    const marker = `30.${process.pid}${Date.now() % 1000}`;
    const started = Date.now();
    const run = runTool('/bin/sleep', [marker], { signal: controller.signal });
    await waitFor(() => childProcesses().find((child) => child.args.includes(marker)), 2000);
    controller.abort(new Stop('stop'));
    await expect(run).rejects.toBeInstanceOf(Stop);
    expect(Date.now() - started).toBeLessThan(2000);
    // Node reaps the child as soon as it exits: no zombie either.
    expect(await waitFor(() => (childProcesses().some((child) => child.args.includes(marker)) ? undefined : true), 2000)).toBe(true);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });

  it('does not start anything when the signal has already aborted', async () => {
    const controller = new AbortController();
    controller.abort(new Stop('already'));
    await expect(runTool('/bin/sh', ['-c', 'exit 0'], { signal: controller.signal })).rejects.toBeInstanceOf(Stop);
  });

  it('kills a process writing more than the stdout limit', async () => {
    const run = runTool('/usr/bin/yes', ['thumbs'], { maxStdoutBytes: 64 * 1024 });
    await expect(run).rejects.toBeInstanceOf(ToolOutputLimitError);
    expect(await waitFor(() => (childProcesses().some((child) => child.args.startsWith('/usr/bin/yes')) ? undefined : true), 2000)).toBe(
      true,
    );
  });

  it('keeps only the start of a long stderr', async () => {
    const result = await runTool('/bin/sh', ['-c', 'printf first >&2; head -c 100000 /dev/zero | tr "\\0" x >&2'], {
      maxStderrBytes: 1000,
    });
    expect(result.stderr).toHaveLength(1000);
    expect(result.stderr.startsWith('first')).toBe(true);
  });

  it('removes its abort listener once the run ends', async () => {
    const controller = new AbortController();
    await runTool('/bin/sh', ['-c', 'exit 0'], { signal: controller.signal });
    await runTool('/bin/sh', ['-c', 'exit 1'], { signal: controller.signal });
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });

  it('rejects when the executable does not exist', async () => {
    await expect(runTool('/nonexistent/ffmpeg', ['-version'])).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
