import { Injectable, Logger, OnApplicationBootstrap, BeforeApplicationShutdown } from '@nestjs/common';
import { Job as BullJob, Worker } from 'bullmq';
import { AppConfig, RedisConnections } from '@app/core';
import {
  JobLifecycle,
  JobQueue,
  JobRecovery,
  JobRunner,
  OrphanSweep,
  RenditionBackfill,
  THUMBNAIL_QUEUE,
  ThumbnailJobData,
  TrashPurge,
} from '@app/jobs';
import { MediaThumbnailer } from '@app/processors';

/**
 * The BullMQ consumer. It is built here rather than with @nestjs/bullmq's @Processor decorator
 * because its options (concurrency, lock duration) come from the runtime config, and decorator
 * arguments are fixed when the class is defined.
 */
@Injectable()
export class ThumbnailConsumer implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(ThumbnailConsumer.name);
  private worker?: Worker<ThumbnailJobData>;
  private sweepTimer?: NodeJS.Timeout;
  private sweeping = false;
  private readonly backfillStop = new AbortController();
  private backfilling?: Promise<void>;
  private readonly orphanStop = new AbortController();
  private orphanSweeping?: Promise<void>;

  constructor(
    private readonly config: AppConfig,
    private readonly redis: RedisConnections,
    private readonly queue: JobQueue,
    private readonly runner: JobRunner,
    private readonly lifecycle: JobLifecycle,
    private readonly recovery: JobRecovery,
    private readonly thumbnailer: MediaThumbnailer,
    private readonly trash: TrashPurge,
    private readonly backfill: RenditionBackfill,
    private readonly orphans: OrphanSweep,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.queue.rebuild();
    const { concurrency, lockMs, sweepIntervalMs } = this.config.worker;
    this.worker = new Worker<ThumbnailJobData>(THUMBNAIL_QUEUE, (job, token) => this.process(job, token), {
      connection: this.redis.create('worker'),
      prefix: this.config.redis.prefix,
      concurrency,
      lockDuration: lockMs,
      stalledInterval: lockMs,
      // A job whose worker died twice is failed by the stalled check; see onFailed.
      maxStalledCount: 2,
      autorun: true,
    });
    this.worker.on('failed', (job, error) => void this.onFailed(job, error));
    this.worker.on('error', (error) => this.logger.warn(`Queue connection: ${error.message}`));
    this.sweepTimer = setInterval(() => void this.sweep(), sweepIntervalMs);
    this.sweepTimer.unref();
    this.logger.log(`Worker ${process.pid} consuming "${THUMBNAIL_QUEUE}" with concurrency ${concurrency}`);
    // Jobs completed before the renditions existed get them, one at a time beside the queue's jobs.
    this.backfilling = this.backfill
      .run((request) => this.thumbnailer.forJob(request), this.backfillStop.signal)
      .then(
        () => undefined,
        (error: Error) => this.logger.warn(`Rendition backfill stopped (it resumes at the next start): ${error.message}`),
      );
  }

  private process(job: BullJob<ThumbnailJobData>, token?: string) {
    return this.runner.run(job, token, (request) => this.thumbnailer.forJob(request));
  }

  /**
   * BullMQ fails a job by itself only when its workers kept dying on it (stalled too often):
   * record that on the job and give the user's turn to their next job.
   */
  private async onFailed(job: BullJob<ThumbnailJobData> | undefined, error: Error): Promise<void> {
    if (!job || !/stalled/i.test(error.message)) return;
    try {
      await this.lifecycle.abandon(job.data.jobId, job.data.userId, error.message);
    } catch (failure) {
      this.logger.warn(`Could not record abandoned job ${job.data.jobId} (the sweep will): ${(failure as Error).message}`);
    }
  }

  private async sweep(): Promise<void> {
    if (this.sweeping) return;
    this.sweeping = true;
    try {
      await this.recovery.sweep(Math.max(30_000, 3 * this.config.worker.sweepIntervalMs));
    } catch (error) {
      this.logger.warn(`Queue sweep failed: ${(error as Error).message}`);
    }
    try {
      await this.trash.purge();
    } catch (error) {
      this.logger.warn(`Trash purge failed (the next sweep tries again): ${(error as Error).message}`);
    } finally {
      this.sweeping = false;
    }
    await this.sweepOrphans();
  }

  /**
   * Every ORPHAN_SWEEP_INTERVAL one worker (whichever takes the turn) lists the storage for files
   * that belong to no job, beside the queue's work: a long listing never holds up the queue's sweep.
   */
  private async sweepOrphans(): Promise<void> {
    const every = this.config.library.orphanSweepSeconds * 1000;
    if (every === 0 || this.orphanSweeping || this.orphanStop.signal.aborted) return;
    try {
      if (!(await this.queue.takeTurn('orphan-sweep', every))) return;
    } catch {
      return; // Redis is down: the queue's sweep says so; try again next time
    }
    if (this.orphanStop.signal.aborted) return; // shutting down meanwhile
    this.orphanSweeping = this.orphans
      .sweep(this.orphanStop.signal)
      .then(
        () => undefined,
        (error: Error) => this.logger.warn(`Orphan sweep failed (it runs again in ${every / 1000} s): ${error.message}`),
      )
      .finally(() => (this.orphanSweeping = undefined));
  }

  /**
   * SIGTERM/SIGINT: take no new jobs, let the running ones finish for up to SHUTDOWN_GRACE_MS,
   * then hand the rest back to the queue (they go back to `queued` and another worker restarts
   * them), and exit. Nothing is lost either way.
   */
  async beforeApplicationShutdown(signal?: string): Promise<void> {
    clearInterval(this.sweepTimer);
    this.backfillStop.abort(new Error('shutting down'));
    this.orphanStop.abort(new Error('shutting down'));
    await Promise.all([this.backfilling, this.orphanSweeping]);
    if (!this.worker) return;
    const grace = this.config.worker.shutdownGraceMs;
    this.logger.log(`Stopping (${signal ?? 'shutdown'}): taking no new jobs; ${this.runner.activeCount} running get ${grace} ms to finish`);
    const closed = this.worker.close();
    const timer = setTimeout(() => {
      if (this.runner.activeCount > 0) this.logger.log(`Handing ${this.runner.activeCount} unfinished job(s) back to the queue`);
      this.runner.handBackAll();
    }, grace);
    await closed;
    clearTimeout(timer);
    this.logger.log('Worker stopped');
  }
}
