import { Injectable, Logger } from '@nestjs/common';
import { DelayedError, Job as BullJob, WaitingError } from 'bullmq';
import {
  AppConfig,
  HandBackError,
  isPermanentJobError,
  jobErrorCodeOf,
  JobTimeoutError,
  newId,
  ServiceUnavailableError,
  UnprocessableMediaError,
} from '@app/core';
import { isTerminalStatus, JobErrorCode } from '@app/shared';
import { ObjectNotFoundError, StorageDriver, StorageKeys } from '@app/storage';
import { JobEvents } from '../events/job-events';
import type { Job } from '../job';
import { JobsRepository } from '../jobs.repository';
import { JobQueue, MAX_ATTEMPTS, ThumbnailJobData } from '../queue/job-queue';
import { withTimeout } from './with-timeout';

/** What a thumbnailer gets: the job, a local path to the original, the size, and a stop signal. */
export interface ThumbnailRequest {
  job: Job;
  file: string;
  size: number;
  signal: AbortSignal;
}

/** Makes the JPEG thumbnail; throws UnprocessableMediaError for input it cannot decode. */
export type Thumbnailer = (request: ThumbnailRequest) => Promise<Buffer>;

export type RunOutcome = 'completed' | 'failed' | 'skipped';

/** While a dependency is down, a job waits this long between tries without using up its attempts. */
const UNAVAILABLE_DELAY_MS = 5000;

/** Observers of runs (metrics). */
export interface RunHooks {
  /** A job was claimed after waiting `waitMs` since it was (last) queued. */
  onStarted?(job: Job, waitMs: number): void;
  onFinished?(job: Job, outcome: 'completed' | 'failed', durationMs: number, reason?: string): void;
}

/**
 * One run of a queued job in a worker: claim it (queued → processing), make the thumbnail under
 * JOB_TIMEOUT_MS, store it, finish the job (→ completed | failed) and hand the user's turn to their
 * next job. Every database move is a compare-and-set; only the holder of the claim can finish.
 * Runs again safely after a crash at any step (BullMQ re-delivers stalled jobs).
 */
@Injectable()
export class JobRunner {
  private readonly logger = new Logger(JobRunner.name);
  hooks: RunHooks = {};
  /** Runs in progress in this process, by job id, each with the switch that hands it back. */
  private readonly running = new Map<string, AbortController>();

  constructor(
    private readonly jobs: JobsRepository,
    private readonly queue: JobQueue,
    private readonly events: JobEvents,
    private readonly storage: StorageDriver,
    private readonly config: AppConfig,
  ) {}

  /** How many jobs this process is running now. */
  get activeCount(): number {
    return this.running.size;
  }

  /** Stops every running job and gives it back to the queue (used when shutting down). */
  handBackAll(): void {
    for (const stop of this.running.values()) stop.abort(new HandBackError());
  }

  async run(bullJob: BullJob<ThumbnailJobData>, token: string | undefined, thumbnailer: Thumbnailer): Promise<RunOutcome> {
    const { jobId, userId } = bullJob.data;
    const stop = new AbortController();
    this.running.set(jobId, stop);
    try {
      return await this.runClaimed(bullJob, thumbnailer, stop.signal);
    } catch (error) {
      if (error instanceof HandBackError) {
        await bullJob.moveToWait(token);
        throw new WaitingError();
      }
      if (error instanceof ServiceUnavailableError) {
        // The database (or another dependency) is down: keep the job, and its attempts, until it is back.
        this.logger.warn({ jobId, userId }, `${error.message} Job ${jobId} waits ${UNAVAILABLE_DELAY_MS} ms.`);
        await bullJob.moveToDelayed(Date.now() + UNAVAILABLE_DELAY_MS, token);
        throw new DelayedError();
      }
      throw error;
    } finally {
      this.running.delete(jobId);
    }
  }

  private async runClaimed(bullJob: BullJob<ThumbnailJobData>, thumbnailer: Thumbnailer, stop: AbortSignal): Promise<RunOutcome> {
    const { jobId, userId } = bullJob.data;
    const current = await this.jobs.findById(jobId);
    if (!current || isTerminalStatus(current.status)) {
      // Deleted, or finished by an earlier run that died before handing over: just hand over.
      await this.queue.advance(userId, jobId);
      return 'skipped';
    }
    const claimToken = newId();
    const startedAt = new Date();
    const claimed = await this.jobs.transition(jobId, {
      from: ['pending', 'queued', 'processing'],
      to: 'processing',
      set: { claimToken, startedAt, errorMessage: null, errorCode: null, incrementAttempts: true },
      now: startedAt,
    });
    if (!claimed) {
      await this.queue.advance(userId, jobId);
      return 'skipped';
    }
    const log = { jobId, userId, requestId: claimed.requestId ?? undefined, attempt: claimed.attempts };
    if (current.status !== 'processing') await this.events.publish(claimed);
    this.hooks.onStarted?.(claimed, Math.max(0, startedAt.getTime() - current.updatedAt.getTime()));
    this.logger.log(log, `Processing ${claimed.fileType} job ${jobId} (attempt ${claimed.attempts})`);

    let outcome: 'completed' | 'failed';
    let reason: string | undefined;
    let finished: Job | null = null;
    try {
      const thumbnail = await withTimeout(
        this.config.worker.jobTimeoutMs,
        (signal) =>
          this.storage.withLocalFile(claimed.originalKey, (file) =>
            thumbnailer({ job: claimed, file, size: this.config.thumbnails.size, signal }),
          ),
        stop,
      );
      finished = await this.complete(claimed, claimToken, thumbnail);
      if (!finished) {
        await this.queue.advance(userId, jobId);
        return 'skipped';
      }
      outcome = 'completed';
      this.logger.log({ ...log, ms: Date.now() - startedAt.getTime() }, `Job ${jobId} completed`);
    } catch (error) {
      if (error instanceof ServiceUnavailableError) throw error;
      if (error instanceof HandBackError) {
        this.logger.log(log, `Handing job ${jobId} back to the queue (shutting down)`);
        await this.requeue(jobId, claimToken);
        throw error;
      }
      const permanent = isPermanentJobError(error) || error instanceof ObjectNotFoundError;
      const lastAttempt = bullJob.attemptsMade + 1 >= (bullJob.opts.attempts ?? MAX_ATTEMPTS);
      if (!permanent && !lastAttempt) {
        this.logger.warn({ ...log, err: error }, `Job ${jobId} hit a transient error, will retry: ${(error as Error).message}`);
        await this.requeue(jobId, claimToken);
        throw error;
      }
      reason = error instanceof UnprocessableMediaError ? error.reason : error instanceof JobTimeoutError ? 'timeout' : 'error';
      const message = this.messageFor(error, permanent);
      if (permanent) this.logger.log({ ...log, reason }, `Job ${jobId} failed: ${message}`);
      else this.logger.error({ ...log, err: error }, `Job ${jobId} failed after ${bullJob.attemptsMade + 1} attempts`);
      const errorCode = error instanceof ObjectNotFoundError ? 'missing_original' : jobErrorCodeOf(error);
      finished = await this.fail(claimed, claimToken, message, errorCode);
      outcome = 'failed';
    }
    this.hooks.onFinished?.(claimed, outcome, Date.now() - startedAt.getTime(), reason);
    // The final status is published by the same script that hands the user's turn on.
    await this.queue.advance(userId, jobId, finished ?? undefined);
    return outcome;
  }

  /** Puts a claimed job back to `queued` (for another run) and publishes that. */
  private async requeue(jobId: string, claimToken: string): Promise<void> {
    const requeued = await this.jobs.transition(jobId, { from: ['processing'], claimToken, to: 'queued', set: { claimToken: null } });
    if (requeued) await this.events.publish(requeued);
  }

  /** Stores the thumbnail and marks the job completed; resolves the completed job (its event is the caller's), or null. */
  private async complete(job: Job, claimToken: string, thumbnail: Buffer): Promise<Job | null> {
    const thumbnailKey = StorageKeys.thumbnail(job.id);
    await this.storage.put(thumbnailKey, thumbnail, { contentType: 'image/jpeg' });
    const completed = await this.jobs.transition(job.id, {
      from: ['processing'],
      claimToken,
      to: 'completed',
      set: { thumbnailKey, completedAt: new Date(), errorMessage: null, errorCode: null, claimToken: null },
    });
    if (completed) return completed;
    // Deleted while we worked (or reclaimed by another worker): do not leave an orphan behind.
    if (!(await this.jobs.findById(job.id))) await this.storage.delete(thumbnailKey);
    return null;
  }

  /** Marks the job failed; resolves the failed job (its event is the caller's), or null. */
  private async fail(job: Job, claimToken: string, message: string, errorCode: JobErrorCode): Promise<Job | null> {
    return this.jobs.transition(job.id, {
      from: ['processing'],
      claimToken,
      to: 'failed',
      set: { errorMessage: message, errorCode, claimToken: null },
    });
  }

  private messageFor(error: unknown, permanent: boolean): string {
    if (error instanceof ObjectNotFoundError) return 'The uploaded file is missing from storage. Upload it again.';
    if (permanent) return (error as Error).message;
    return 'Processing failed because of an internal error, several times. Retry later; if it keeps failing, tell the operator.';
  }
}
