import { Inject, Injectable, Logger } from '@nestjs/common';
import { DelayedError, Job as BullJob, WaitingError } from 'bullmq';
import {
  AppConfig,
  HandBackError,
  isPermanentJobError,
  jobErrorCodeOf,
  JobTimeoutError,
  ServiceUnavailableError,
  UnprocessableMediaError,
} from '@app/core';
import { isStorageFull, ObjectNotFoundError, StorageDriver } from '@app/storage';
import type { Job } from '../job';
import { JobsRepository } from '../jobs.repository';
import { Claim, JobLifecycle } from '../lifecycle/job-lifecycle';
import { MAX_ATTEMPTS, ThumbnailJobData } from '../queue/job-queue';
import { deleteRenditions, MadeRenditions, storeRenditions } from './rendition-store';
import { withTimeout } from './with-timeout';

/** What a thumbnailer gets: the job, a local path to the original, the sizes, and a stop signal. */
export interface ThumbnailRequest {
  job: Job;
  file: string;
  /** THUMBNAIL_SIZE. */
  size: number;
  /** PREVIEW_SIZE (0: no preview); absent when only the thumbnail is wanted. */
  previewSize?: number;
  signal: AbortSignal;
}

/** Makes the renditions of one file (from one decode); throws UnprocessableMediaError for input it cannot decode. */
export type Thumbnailer = (request: ThumbnailRequest) => Promise<MadeRenditions>;

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
 * One run of a queued job in a worker: claim it, make the thumbnail under JOB_TIMEOUT_MS, store
 * it, and finish the job (completed | failed), which hands the user's turn to their next job; or
 * hand it back for another run. The moves are JobLifecycle's; only the holder of the claim can
 * finish. Runs again safely after a crash at any step (BullMQ re-delivers stalled jobs).
 */
@Injectable()
export class JobRunner {
  private readonly logger = new Logger(JobRunner.name);
  hooks: RunHooks = {};
  /** Runs in progress in this process, by job id, each with the switch that hands it back. */
  private readonly running = new Map<string, AbortController>();

  constructor(
    private readonly lifecycle: JobLifecycle,
    @Inject(JobsRepository) private readonly jobs: Pick<JobsRepository, 'findById'>,
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
    // Null when there is nothing to run (finished by an earlier run that died before handing over, or deleted).
    const claim = await this.lifecycle.claim(jobId, userId);
    if (!claim) return 'skipped';
    const claimed = claim.job;
    const startedAt = claimed.startedAt ?? new Date();
    const log = { jobId, userId, requestId: claimed.requestId ?? undefined, attempt: claimed.attempts };
    this.hooks.onStarted?.(claimed, claim.waitedMs);
    this.logger.log(log, `Processing ${claimed.fileType} job ${jobId} (attempt ${claimed.attempts})`);

    // Said before the user's next job gets its turn, so logs and metrics show the runs in order.
    const ended = (outcome: 'completed' | 'failed', reason?: string) => {
      if (outcome === 'completed') this.logger.log({ ...log, ms: Date.now() - startedAt.getTime() }, `Job ${jobId} completed`);
      this.hooks.onFinished?.(claimed, outcome, Date.now() - startedAt.getTime(), reason);
    };
    try {
      const { size, previewSize } = this.config.thumbnails;
      const renditions = await withTimeout(
        this.config.worker.jobTimeoutMs,
        (signal) =>
          this.storage.withLocalFile(claimed.originalKey, (file) => thumbnailer({ job: claimed, file, size, previewSize, signal })),
        stop,
      );
      return (await this.complete(claim, renditions, () => ended('completed'))) ? 'completed' : 'skipped';
    } catch (error) {
      if (error instanceof ServiceUnavailableError) throw error;
      if (error instanceof HandBackError) {
        this.logger.log(log, `Handing job ${jobId} back to the queue (shutting down)`);
        await this.lifecycle.handBack(claim);
        throw error;
      }
      const permanent = isPermanentJobError(error) || error instanceof ObjectNotFoundError;
      const lastAttempt = bullJob.attemptsMade + 1 >= (bullJob.opts.attempts ?? MAX_ATTEMPTS);
      if (!permanent && !lastAttempt) {
        this.logger.warn({ ...log, err: error }, `Job ${jobId} hit a transient error, will retry: ${(error as Error).message}`);
        await this.lifecycle.handBack(claim);
        throw error;
      }
      const reason = error instanceof UnprocessableMediaError ? error.reason : error instanceof JobTimeoutError ? 'timeout' : 'error';
      const message = this.messageFor(error, permanent);
      // A failure stands out from the runs around it: warn for the file's (reason and message say
      // why), error for ours.
      if (permanent) this.logger.warn({ ...log, reason }, `Job ${jobId} failed: ${message}`);
      else this.logger.error({ ...log, err: error }, `Job ${jobId} failed after ${bullJob.attemptsMade + 1} attempts`);
      const errorCode = error instanceof ObjectNotFoundError ? 'missing_original' : jobErrorCodeOf(error);
      await this.lifecycle.finish(claim, 'fail', { errorMessage: message, errorCode }, () => ended('failed', reason));
      return 'failed';
    }
  }

  /**
   * Stores every rendition under the job's prefix and finishes the job as completed with their keys
   * and measurements; false when the claim was lost meanwhile.
   */
  private async complete(claim: Claim, renditions: MadeRenditions, ended: () => void): Promise<boolean> {
    const stored = await storeRenditions(this.storage, claim.job.id, renditions);
    const set = { ...stored, completedAt: new Date(), errorMessage: null, errorCode: null };
    const completed = await this.lifecycle.finish(claim, 'complete', set, (job) => job && ended());
    if (completed) return true;
    // Deleted while we worked: do not leave orphans behind.
    if (!(await this.jobs.findById(claim.job.id))) await deleteRenditions(this.storage, claim.job.id);
    return false;
  }

  private messageFor(error: unknown, permanent: boolean): string {
    if (error instanceof ObjectNotFoundError) return 'The uploaded file is missing from storage. Upload it again.';
    if (permanent) return (error as Error).message;
    if (isStorageFull(error))
      return "The server's storage is full, so the thumbnails could not be saved. Retry once the operator has freed space.";
    return 'Processing failed because of an internal error, several times. Retry later; if it keeps failing, tell the operator.';
  }
}
