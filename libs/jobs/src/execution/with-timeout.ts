import { JobTimeoutError } from '@app/core';

/**
 * Runs `work` with an AbortSignal that fires after `ms` (or when `stop` fires); rejects with
 * JobTimeoutError (or `stop`'s reason) at that moment without waiting for `work`, which must stop
 * what it started (kill ffmpeg, stop sharp) when the signal fires.
 */
export function withTimeout<T>(ms: number, work: (signal: AbortSignal) => Promise<T>, stop?: AbortSignal): Promise<T> {
  const controller = new AbortController();
  return new Promise<T>((resolve, reject) => {
    const settle = () => {
      clearTimeout(timer);
      stop?.removeEventListener('abort', onStop);
    };
    const abort = (reason: Error) => {
      settle();
      controller.abort(reason);
      reject(reason);
    };
    // An AbortSignal's reason is whatever was passed to abort(): here always an Error (HandBackError…).
    const onStop = () => abort(stop!.reason as Error);
    const timer = setTimeout(() => abort(new JobTimeoutError(ms)), ms);
    if (stop?.aborted) return abort(stop.reason as Error);
    stop?.addEventListener('abort', onStop, { once: true });
    work(controller.signal).then(
      (value) => {
        settle();
        resolve(value);
      },
      (error: Error) => {
        settle();
        reject(error);
      },
    );
  });
}

/**
 * `work`'s result, or a rejection with Error(`message`) when it has not settled within `ms`
 * (`work` itself is not stopped: for calls that give up waiting, such as a health probe).
 */
export async function withDeadline<T>(ms: number, message: string, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      work,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(message)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
