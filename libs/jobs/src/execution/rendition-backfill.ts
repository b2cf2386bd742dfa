import { Inject, Injectable, Logger } from '@nestjs/common';
import { AppConfig, RedisConnections } from '@app/core';
import { StorageDriver } from '@app/storage';
import type { Job } from '../job';
import { JobsRepository } from '../jobs.repository';
import type { Thumbnailer } from './job-runner';
import { deleteRenditions, storeRenditions } from './rendition-store';
import { withTimeout } from './with-timeout';

const BATCH = 20;

export interface BackfillResult {
  done: number;
  failed: number;
  /** Taken by another worker's backfill at the same time. */
  skipped: number;
}

/**
 * Gives jobs completed before the renditions existed (a thumbnail, no 2× thumbnail) their new
 * renditions: the original through the same pipeline, one job at a time in the background of a
 * worker, newest first (oldest last), without touching their status (no event, no webhook). The
 * existing thumbnail stays as it is, so its URL, ETag and the copies browsers cached stay right;
 * the others are stored and recorded with the ThumbHash and measurements. Each job is taken with
 * a Redis lock, so several workers starting together share the list instead of repeating it; a
 * job that fails (its original gone, a decoder error) is logged and left as it was.
 */
@Injectable()
export class RenditionBackfill {
  private readonly logger = new Logger(RenditionBackfill.name);

  constructor(
    @Inject(JobsRepository) private readonly jobs: Pick<JobsRepository, 'findMissingRenditions' | 'recordRenditions' | 'findById'>,
    private readonly storage: StorageDriver,
    private readonly config: AppConfig,
    private readonly redis: RedisConnections,
  ) {}

  /** One pass over every job missing renditions; stops early when `stop` fires. */
  async run(thumbnailer: Thumbnailer, stop: AbortSignal): Promise<BackfillResult> {
    const result: BackfillResult = { done: 0, failed: 0, skipped: 0 };
    let before: string | undefined;
    while (!stop.aborted) {
      const batch = await this.jobs.findMissingRenditions({ before, limit: BATCH });
      if (batch.length === 0) break;
      for (const job of batch) {
        before = job.id;
        if (stop.aborted) break;
        if (!(await this.lock(job.id))) {
          result.skipped += 1;
          continue;
        }
        try {
          await this.backfill(job, thumbnailer, stop);
          result.done += 1;
        } catch (error) {
          if (stop.aborted) break;
          result.failed += 1;
          this.logger.warn({ jobId: job.id, err: error }, `Could not make the renditions of job ${job.id}: ${(error as Error).message}`);
        } finally {
          await this.unlock(job.id);
        }
      }
    }
    const stopped = stop.aborted ? ' (stopped early)' : '';
    this.logger.log(result, `Rendition backfill finished${stopped}: ${result.done} job(s) given their renditions, ${result.failed} failed`);
    return result;
  }

  private async backfill(job: Job, thumbnailer: Thumbnailer, stop: AbortSignal): Promise<void> {
    const startedAt = Date.now();
    const { size, previewSize } = this.config.thumbnails;
    const made = await withTimeout(
      this.config.worker.jobTimeoutMs,
      (signal) => this.storage.withLocalFile(job.originalKey, (file) => thumbnailer({ job, file, size, previewSize, signal })),
      stop,
    );
    const stored = await storeRenditions(this.storage, job.id, made, { keep: ['thumbnail'] });
    const recorded = await this.jobs.recordRenditions(job.id, { ...stored, thumbnailKey: job.thumbnailKey });
    if (!recorded && !(await this.jobs.findById(job.id))) {
      // Deleted meanwhile: leave nothing behind.
      await deleteRenditions(this.storage, job.id);
      return;
    }
    this.logger.log({ jobId: job.id, ms: Date.now() - startedAt }, `Backfilled the renditions of job ${job.id}`);
  }

  private lockKey(jobId: string): string {
    return `${this.config.redis.prefix}:backfill:${jobId}`;
  }

  private async lock(jobId: string): Promise<boolean> {
    const ttl = this.config.worker.jobTimeoutMs + 60_000;
    return (await this.redis.get('commands').set(this.lockKey(jobId), String(process.pid), 'PX', ttl, 'NX')) === 'OK';
  }

  private async unlock(jobId: string): Promise<void> {
    await this.redis
      .get('commands')
      .del(this.lockKey(jobId))
      .catch(() => undefined);
  }
}
