import { Injectable, Logger } from '@nestjs/common';
import { ConflictError, InvalidInputError, isId, NotFoundError } from '@app/core';
import { DEFAULT_PAGE_SIZE, JobStatus, MAX_PAGE_SIZE } from '@app/shared';
import { StorageDriver } from '@app/storage';
import { JobEvents } from './events/job-events';
import { withDeadline } from './execution/with-timeout';
import type { StoredUpload } from './intake/upload-intake';
import { Job, UNPROCESSED } from './job';
import { JobsRepository } from './jobs.repository';
import { JobQueue } from './queue/job-queue';

/** How long an upload waits for Redis before answering anyway; the sweeper queues what is left. */
const ENQUEUE_DEADLINE_MS = 3000;

export interface ListOptions {
  status?: JobStatus;
  limit?: number;
  cursor?: string;
}

/** The job lifecycle as the api drives it: create from uploads, read, retry, delete. */
@Injectable()
export class JobsService {
  private readonly logger = new Logger(JobsService.name);

  constructor(
    private readonly jobs: JobsRepository,
    private readonly queue: JobQueue,
    private readonly events: JobEvents,
    private readonly storage: StorageDriver,
  ) {}

  /**
   * Records stored uploads as jobs (pending), marks them queued, and appends them to the user's
   * FIFO in upload order. Durable once this resolves: if Redis is down the jobs stay queued in the
   * database and the workers' sweep puts them on the queue when it is back.
   */
  async createFromUploads(userId: string, uploads: readonly StoredUpload[], requestId: string | null): Promise<Job[]> {
    if (uploads.length === 0) return [];
    const now = new Date();
    const jobs: Job[] = uploads.map((upload) => ({
      id: upload.jobId,
      userId,
      originalFilename: upload.originalFilename,
      fileType: upload.media.fileType,
      mimeType: upload.media.mimeType,
      fileSize: upload.size,
      status: 'pending',
      ...UNPROCESSED,
      originalKey: upload.key,
      contentHash: null,
      position: 'centre',
      claimToken: null,
      attempts: 0,
      requestId,
      createdAt: now,
      updatedAt: now,
      startedAt: null,
      completedAt: null,
      deletedAt: null,
    }));
    try {
      await this.jobs.insertMany(jobs);
    } catch (error) {
      await Promise.all(uploads.map((upload) => this.storage.delete(upload.key).catch(() => undefined)));
      throw error;
    }
    const ids = jobs.map((job) => job.id);
    const queuedAt = new Date();
    const queued = new Set(await this.jobs.transitionMany(ids, { from: ['pending'], to: 'queued', now: queuedAt }));
    const queuedJobs = jobs.filter((job) => queued.has(job.id));
    for (const job of queuedJobs) {
      job.status = 'queued';
      job.updatedAt = queuedAt;
    }
    // The 'queued' events go out with the enqueue, in one script.
    await this.enqueueSoon(userId, ids, queuedJobs);
    return jobs;
  }

  async list(userId: string, options: ListOptions): Promise<{ items: Job[]; nextCursor: string | null }> {
    const limit = options.limit ?? DEFAULT_PAGE_SIZE;
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE_SIZE) {
      throw new InvalidInputError(`limit must be a whole number from 1 to ${MAX_PAGE_SIZE}`);
    }
    if (options.cursor !== undefined && !isId(options.cursor)) throw new InvalidInputError('cursor is not valid');
    const rows = await this.jobs.list(userId, { status: options.status, limit: limit + 1, before: options.cursor });
    const items = rows.slice(0, limit);
    return { items, nextCursor: rows.length > limit ? items[items.length - 1].id : null };
  }

  /** The user's job; 404 for a missing job and for anyone else's alike. */
  async get(userId: string, jobId: string): Promise<Job> {
    const job = isId(jobId) ? await this.jobs.findOwned(jobId, userId) : null;
    if (!job) throw new NotFoundError('Job not found');
    return job;
  }

  /** A failed job goes back on the queue, behind the user's other waiting jobs. */
  async retry(userId: string, jobId: string, requestId: string | null): Promise<Job> {
    const job = await this.get(userId, jobId);
    if (job.status !== 'failed') throw new ConflictError(`Only failed jobs can be retried; this one is ${job.status}.`);
    const queued = await this.jobs.transition(job.id, {
      from: ['failed'],
      to: 'queued',
      set: { ...UNPROCESSED, completedAt: null, startedAt: null, claimToken: null, requestId },
    });
    if (!queued) throw new ConflictError('This job changed meanwhile; reload it and try again.');
    await this.events.publish(queued);
    await this.queue.forget(job.id).catch(() => undefined);
    await this.enqueueSoon(userId, [job.id]);
    return queued;
  }

  /** Removes the job, its original and its thumbnail. A running job's worker notices and cleans up. */
  async delete(userId: string, jobId: string): Promise<Job> {
    const job = isId(jobId) ? await this.jobs.deleteOwned(jobId, userId) : null;
    if (!job) throw new NotFoundError('Job not found');
    await this.queue.withdraw(userId, job.id).catch((error: Error) => {
      this.logger.warn(`Could not take deleted job ${job.id} off the queue (the worker will skip it): ${error.message}`);
    });
    const keys = [job.originalKey, ...(job.thumbnailKey ? [job.thumbnailKey] : [])];
    await Promise.all(
      keys.map((key) =>
        this.storage.delete(key).catch((error: Error) => this.logger.warn(`Could not delete ${key} of job ${job.id}: ${error.message}`)),
      ),
    );
    return job;
  }

  /** Looks a job up by id alone, for signed-URL access (the caller checks the signature against the owner). */
  findById(jobId: string): Promise<Job | null> {
    return isId(jobId) ? this.jobs.findById(jobId) : Promise.resolve(null);
  }

  private async enqueueSoon(userId: string, ids: string[], announce: readonly Job[] = []): Promise<void> {
    try {
      await withDeadline(
        ENQUEUE_DEADLINE_MS,
        `no answer from Redis within ${ENQUEUE_DEADLINE_MS} ms`,
        this.queue.enqueue(userId, ids, announce),
      );
    } catch (error) {
      this.logger.warn(
        `Jobs ${ids.join(', ')} are stored but not yet on the queue (${(error as Error).message}); the sweep will queue them.`,
      );
    }
  }
}
