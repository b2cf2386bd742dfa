import { getEventListeners } from 'node:events';
import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import { JobTimeoutError } from '@app/core';
import { withTimeout } from './with-timeout';

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

/** Work that ends after `ms` unless its signal fires first (then it rejects with the signal's reason, as ffmpeg's kill does). */
const sleeper =
  (ms: number) =>
  (signal: AbortSignal): Promise<string> =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => resolve('finished'), ms);
      signal.addEventListener('abort', () => {
        clearTimeout(timer);
        reject(signal.reason as Error);
      });
    });

const outcome = (promise: Promise<unknown>) =>
  promise.then(
    (value) => value,
    (error: Error) => error,
  );

describe('withTimeout', () => {
  it('stops the work at the limit even when garbage is collected meanwhile, with or without a stop signal', async () => {
    for (const stop of [undefined, new AbortController().signal]) {
      const started = Date.now();
      let seen: AbortSignal | undefined;
      const running = outcome(
        withTimeout(
          300,
          (signal) => {
            seen = signal;
            return sleeper(3000)(signal);
          },
          stop,
        ),
      );
      await new Promise((resolve) => setTimeout(resolve, 50));
      gc();
      gc();
      const result = await running;
      expect(result).toBeInstanceOf(JobTimeoutError);
      expect(seen?.aborted).toBe(true);
      expect(seen?.reason).toBeInstanceOf(JobTimeoutError);
      expect(Date.now() - started).toBeLessThan(2500);
    }
  });

  it("stops the work when `stop` fires, with stop's reason", async () => {
    const stop = new AbortController();
    const running = outcome(withTimeout(10_000, sleeper(10_000), stop.signal));
    const reason = new Error('handing back');
    stop.abort(reason);
    await expect(running).resolves.toBe(reason);
    const stopped = new AbortController();
    stopped.abort(reason);
    await expect(outcome(withTimeout(10_000, sleeper(10), stopped.signal))).resolves.toBe(reason);
  });

  it("gives the work's own result or error, and leaves no timer or listener behind", async () => {
    const stop = new AbortController();
    await expect(withTimeout(5_000, sleeper(10), stop.signal)).resolves.toBe('finished');
    await expect(withTimeout(5_000, () => Promise.reject(new Error('bad file')), stop.signal)).rejects.toThrow('bad file');
    // A stop after the work ended changes nothing (its listener is gone).
    expect(getEventListeners(stop.signal, 'abort')).toHaveLength(0);
    stop.abort(new Error('late'));
    const timers = () => process.getActiveResourcesInfo().filter((kind) => kind === 'Timeout').length;
    const before = timers();
    await withTimeout(60_000, sleeper(5));
    // Work that throws at once rejects the same way.
    const throwing = (): Promise<string> => {
      throw new Error('thrown at once');
    };
    const other = new AbortController();
    await expect(withTimeout(60_000, throwing, other.signal)).rejects.toThrow('thrown at once');
    expect(getEventListeners(other.signal, 'abort')).toHaveLength(0);
    expect(timers()).toBe(before);
  });
});
