import { JobTimeoutError } from '@app/core';

/**
 * Runs `work` with an AbortSignal that fires after `ms`; rejects with JobTimeoutError at that
 * moment without waiting for `work`, which must stop what it started (kill ffmpeg, stop sharp)
 * when the signal fires.
 */
export function withTimeout<T>(ms: number, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      const error = new JobTimeoutError(ms);
      controller.abort(error);
      reject(error);
    }, ms);
    work(controller.signal).then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}
