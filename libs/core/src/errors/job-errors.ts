import { isJobErrorCode, JobErrorCode } from '@app/shared';

/**
 * Why a job failed, as the worker sees it. Permanent errors fail the job at once; anything else is
 * treated as transient and retried with backoff.
 */

/** The input cannot be turned into a thumbnail (undecodable, no video stream, too many pixels…). */
export class UnprocessableMediaError extends Error {
  constructor(
    message: string,
    /** Short machine-readable reason, used for metrics and (when it is one) as the job's `errorCode`. */
    readonly reason: string = 'undecodable',
  ) {
    super(message);
    this.name = 'UnprocessableMediaError';
  }
}

/** The job ran longer than JOB_TIMEOUT_MS and was stopped. */
export class JobTimeoutError extends Error {
  readonly reason = 'timeout';
  constructor(readonly timeoutMs: number) {
    super(`Processing took longer than ${formatDuration(timeoutMs)} and was stopped.`);
    this.name = 'JobTimeoutError';
  }
}

/** The `errorCode` of a job that failed with `error` (anything not known to be the file's fault is `internal`). */
export function jobErrorCodeOf(error: unknown): JobErrorCode {
  if (error instanceof UnprocessableMediaError) return isJobErrorCode(error.reason) ? error.reason : 'undecodable';
  if (error instanceof JobTimeoutError) return 'timeout';
  return 'internal';
}

export function isPermanentJobError(error: unknown): error is UnprocessableMediaError | JobTimeoutError {
  return error instanceof UnprocessableMediaError || error instanceof JobTimeoutError;
}

function formatDuration(ms: number): string {
  if (ms < 1000) return `${ms} ms`;
  const seconds = ms / 1000;
  return seconds < 120 ? `${+seconds.toFixed(1)} s` : `${+(seconds / 60).toFixed(1)} min`;
}

/** The worker is shutting down and gives the job back to the queue unfinished. */
export class HandBackError extends Error {
  constructor() {
    super('The worker is shutting down; the job goes back to the queue.');
    this.name = 'HandBackError';
  }
}
