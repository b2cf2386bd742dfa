import { JobTimeoutError } from '@app/core';

/**
 * Runs `work` with an AbortSignal that fires after `ms` (AbortSignal.timeout) or when `stop` fires
 * (AbortSignal.any); rejects with JobTimeoutError (or `stop`'s reason) at that moment without
 * waiting for `work`, which must stop what it started (kill ffmpeg, stop sharp) when the signal fires.
 */
export function withTimeout<T>(ms: number, work: (signal: AbortSignal) => Promise<T>, stop?: AbortSignal): Promise<T> {
  const timeout = AbortSignal.timeout(ms);
  const signal = stop ? AbortSignal.any([stop, timeout]) : timeout;
  // An AbortSignal's reason is whatever was passed to abort(): for `stop` always an Error (HandBackError…).
  const reason = (): Error => (stop?.aborted ? (stop.reason as Error) : new JobTimeoutError(ms));
  if (signal.aborted) return Promise.reject(reason());
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(reason());
    signal.addEventListener('abort', onAbort, { once: true });
    work(signal).then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: Error) => {
        signal.removeEventListener('abort', onAbort);
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
