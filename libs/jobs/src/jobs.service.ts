import { Injectable, Logger } from '@nestjs/common';
import { AppConfig, ConflictError, InvalidInputError, isId, NotFoundError } from '@app/core';
import { DEFAULT_PAGE_SIZE, JobStatus, MAX_PAGE_SIZE, THUMBNAIL_POSITIONS, ThumbnailPosition } from '@app/shared';
import { StorageDriver, StorageKeys } from '@app/storage';
import type { StoredUpload } from './intake/upload-intake';
import { Job, UNPROCESSED } from './job';
import { JobsRepository } from './jobs.repository';
import { JobLifecycle } from './lifecycle/job-lifecycle';

export interface CreateOptions {
  /** Crop of the square renditions; THUMBNAIL_POSITION when absent. */
  position?: ThumbnailPosition;
}

/** The multipart field `position` as sent (absent, or one of THUMBNAIL_POSITIONS); anything else is a 400. */
export function parsePosition(value: unknown): ThumbnailPosition | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'string' && (THUMBNAIL_POSITIONS as readonly string[]).includes(value)) return value as ThumbnailPosition;
  throw new InvalidInputError(`position must be one of ${THUMBNAIL_POSITIONS.join(', ')}`);
}

export interface ListOptions {
  status?: JobStatus;
  limit?: number;
  cursor?: string;
}

/**
 * Jobs as the api sees them: create from uploads, read, retry, delete, with the checks and the
 * errors users get. Status changes are JobLifecycle's.
 */
@Injectable()
export class JobsService {
  private readonly logger = new Logger(JobsService.name);

  constructor(
    private readonly jobs: JobsRepository,
    private readonly lifecycle: JobLifecycle,
    private readonly storage: StorageDriver,
    private readonly config: AppConfig,
  ) {}

  /**
   * Records stored uploads as jobs (pending), then has them queued in upload order. Durable once
   * this resolves: if Redis is down the jobs stay queued in the database and the workers' sweep
   * puts them on the queue when it is back.
   */
  async createFromUploads(
    userId: string,
    uploads: readonly StoredUpload[],
    requestId: string | null,
    options: CreateOptions = {},
  ): Promise<Job[]> {
    if (uploads.length === 0) return [];
    const position = options.position ?? this.config.thumbnails.position;
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
      position,
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
      await this.discardUploads(uploads);
      throw error;
    }
    return this.lifecycle.enqueueSoon(userId, jobs);
  }

  /** Removes stored uploads that will not become jobs (a request refused after its files arrived). */
  async discardUploads(uploads: readonly StoredUpload[]): Promise<void> {
    await Promise.all(uploads.map((upload) => this.storage.delete(upload.key).catch(() => undefined)));
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
    const queued = await this.lifecycle.retry(job, requestId);
    if (!queued) throw new ConflictError('This job changed meanwhile; reload it and try again.');
    return queued;
  }

  /** Removes the job, its original and every rendition. A running job's worker notices and cleans up. */
  async delete(userId: string, jobId: string): Promise<Job> {
    const job = isId(jobId) ? await this.lifecycle.remove(userId, jobId) : null;
    if (!job) throw new NotFoundError('Job not found');
    // Every key a rendition may have, not only the recorded ones: a run that stored files and then lost its claim leaves none behind.
    const keys = [job.originalKey, ...StorageKeys.renditionKeys(job.id)];
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
}
