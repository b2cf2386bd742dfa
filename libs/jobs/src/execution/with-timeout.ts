import { JobTimeoutError } from '@app/core';

/**
 * Runs `work` with an AbortSignal that fires after `ms` (or when `stop` fires); rejects with
 * JobTimeoutError (or `stop`'s reason) at that moment without waiting for `work`, which must stop
 * what it started (kill ffmpeg, stop sharp) when the signal fires.
 */
export function withTimeout<T>(ms: number, work: (signal: AbortSignal) => Promise<T>, stop?: AbortSignal): Promise<T> {
  const controller = new AbortController();
  return new Promise<T>((resolve, reject) => {
    const abort = (reason: unknown) => {
      clearTimeout(timer);
      stop?.removeEventListener('abort', onStop);
      controller.abort(reason);
      reject(reason);
    };
    const onStop = () => abort(stop!.reason);
    const timer = setTimeout(() => abort(new JobTimeoutError(ms)), ms);
    if (stop?.aborted) return abort(stop.reason);
    stop?.addEventListener('abort', onStop, { once: true });
    work(controller.signal).then(
      (value) => {
        clearTimeout(timer);
        stop?.removeEventListener('abort', onStop);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        stop?.removeEventListener('abort', onStop);
        reject(error);
      },
    );
  });
}
