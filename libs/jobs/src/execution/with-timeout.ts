import { JobTimeoutError } from '@app/core';

/**
 * Runs `work` with an AbortSignal that fires after `ms` or when `stop` fires; rejects with
 * JobTimeoutError (or `stop`'s reason) at that moment without waiting for `work`, which must stop
 * what it started (kill ffmpeg, stop sharp) when the signal fires.
 *
 * A plain AbortController and timer rather than `AbortSignal.any([stop, AbortSignal.timeout(ms)])`:
 * on Node 20 the combined signal holds its sources weakly, so a garbage collection before the
 * time limit could collect the timeout signal and the limit never fired (nodejs/node#57736; a job
 * planned to run 750 ms against a 600 ms limit completed in 2 of 3 runs of Property 38).
 */
export function withTimeout<T>(ms: number, work: (signal: AbortSignal) => Promise<T>, stop?: AbortSignal): Promise<T> {
  // An AbortSignal's reason is whatever was passed to abort(): for `stop` always an Error (HandBackError…).
  if (stop?.aborted) return Promise.reject(stop.reason as Error);
  const controller = new AbortController();
  const { signal } = controller;
  const timer = setTimeout(() => controller.abort(new JobTimeoutError(ms)), ms);
  const onStop = () => controller.abort(stop?.reason);
  stop?.addEventListener('abort', onStop, { once: true });
  return new Promise<T>((resolve, reject) => {
    const settle = () => {
      clearTimeout(timer);
      stop?.removeEventListener('abort', onStop);
      signal.removeEventListener('abort', onAbort);
    };
    const onAbort = () => {
      settle();
      reject(signal.reason as Error);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    // Called inside the promise chain, so that a `work` that throws at once settles the same way.
    Promise.resolve()
      .then(() => work(signal))
      .then(
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
