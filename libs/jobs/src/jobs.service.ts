import { Injectable, Logger } from '@nestjs/common';
import { ConflictError, InvalidInputError, isId, NotFoundError } from '@app/core';
import { DEFAULT_PAGE_SIZE, FileType, JobStatus, MAX_PAGE_SIZE } from '@app/shared';
import { StorageDriver } from '@app/storage';
import type { StoredUpload } from './intake/upload-intake';
import { fileKeysOf, Job, UNPROCESSED } from './job';
import { JobSort, JobsRepository, sortKeyOf } from './jobs.repository';
import { decodeCursor, encodeCursor } from './library/list-cursor';
import { JobLifecycle } from './lifecycle/job-lifecycle';
import { ScanResult, VirusScanner } from './scanning/virus-scanner';

export interface ListOptions {
  status?: JobStatus;
  type?: FileType;
  /** Part of the file name, any case; '' is no filter. */
  q?: string;
  sort?: JobSort;
  limit?: number;
  cursor?: string;
  /** The trash instead of the library. */
  trashed?: boolean;
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
    private readonly scanner: VirusScanner,
  ) {}

  /**
   * Records stored uploads as jobs (pending), then has them queued in upload order. Durable once
   * this resolves: if Redis is down the jobs stay queued in the database and the workers' sweep
   * puts them on the queue when it is back.
   */
  async createFromUploads(userId: string, uploads: readonly StoredUpload[], requestId: string | null): Promise<Job[]> {
    if (uploads.length === 0) return [];
    const scans = await this.scanAll(uploads);
    const now = new Date();
    const jobs: Job[] = uploads.map((upload, index) => ({
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
      ...infectedFields(scans[index], now),
    }));
    try {
      await this.jobs.insertMany(jobs);
    } catch (error) {
      await Promise.all(uploads.map((upload) => this.storage.delete(upload.key).catch(() => undefined)));
      throw error;
    }
    // An infected original is failed at once and its file deleted; only the clean ones are queued.
    const infected = uploads.filter((_, index) => scans[index].infected);
    await Promise.all(infected.map((upload) => this.storage.delete(upload.key).catch(() => undefined)));
    const queued = await this.lifecycle.enqueueSoon(
      userId,
      jobs.filter((job) => job.status === 'pending'),
    );
    const byId = new Map(queued.map((job) => [job.id, job]));
    return jobs.map((job) => byId.get(job.id) ?? job);
  }

  /** With CLAMAV_URL: every stored original through clamd. clamd down fails the whole upload (503) and removes its files. */
  private async scanAll(uploads: readonly StoredUpload[]): Promise<ScanResult[]> {
    if (!this.scanner.enabled) return uploads.map(() => ({ infected: false }));
    try {
      const results: ScanResult[] = [];
      for (const upload of uploads) results.push(await this.scanner.scanStored(upload.key));
      for (const [index, result] of results.entries()) {
        if (result.infected) this.logger.warn(`Infected upload ${uploads[index].jobId}: ${result.signature}`);
      }
      return results;
    } catch (error) {
      await Promise.all(uploads.map((upload) => this.storage.delete(upload.key).catch(() => undefined)));
      throw error;
    }
  }

  async list(userId: string, options: ListOptions): Promise<{ items: Job[]; nextCursor: string | null }> {
    const limit = options.limit ?? DEFAULT_PAGE_SIZE;
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE_SIZE) {
      throw new InvalidInputError(`limit must be a whole number from 1 to ${MAX_PAGE_SIZE}`);
    }
    const sort = options.sort ?? 'newest';
    const after = options.cursor === undefined ? undefined : decodeCursor(options.cursor, sort);
    if (after === null) throw new InvalidInputError('cursor is not valid (pass nextCursor of the previous page, with the same sort)');
    const rows = await this.jobs.list(userId, {
      status: options.status,
      type: options.type,
      search: options.q || undefined,
      sort,
      trashed: options.trashed,
      limit: limit + 1,
      after,
    });
    const items = rows.slice(0, limit);
    const last = items[items.length - 1];
    return { items, nextCursor: rows.length > limit ? encodeCursor(sort, { key: sortKeyOf(last, sort), id: last.id }) : null };
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

  /**
   * Moves the job to the trash: it leaves the library, its files stay, and it can be restored
   * until TRASH_TTL has passed (then the workers' purge removes it with its files). A job still
   * waiting or running goes on and finishes in the trash. A job already there stays as it is.
   */
  async trash(userId: string, jobId: string): Promise<void> {
    const moved = isId(jobId) ? await this.jobs.trash(userId, [jobId], new Date()) : [];
    if (moved.length === 0) await this.get(userId, jobId);
  }

  /** Takes the job out of the trash (a job not in it is answered as it is). */
  async restore(userId: string, jobId: string): Promise<Job> {
    const job = await this.get(userId, jobId);
    if (job.deletedAt === null) return job;
    await this.jobs.restore(userId, [job.id]);
    return this.get(userId, jobId);
  }

  /** Removes the job and all its files at once (trash or not). A running job's worker notices and cleans up. */
  async delete(userId: string, jobId: string): Promise<Job> {
    const job = isId(jobId) ? await this.lifecycle.remove(userId, jobId) : null;
    if (!job) throw new NotFoundError('Job not found');
    await this.deleteFiles(job);
    return job;
  }

  /** Deletes a removed job's files; one that cannot be deleted is logged and left (it is no one's any more). */
  async deleteFiles(job: Job): Promise<void> {
    await Promise.all(
      fileKeysOf(job).map((key) =>
        this.storage.delete(key).catch((error: Error) => this.logger.warn(`Could not delete ${key} of job ${job.id}: ${error.message}`)),
      ),
    );
  }

  /** Looks a job up by id alone, for signed-URL access (the caller checks the signature against the owner). */
  findById(jobId: string): Promise<Job | null> {
    return isId(jobId) ? this.jobs.findById(jobId) : Promise.resolve(null);
  }
}

/** The fields of a job whose original a scan found infected: failed at once, naming the signature. */
function infectedFields(scan: ScanResult, now: Date): Partial<Job> {
  if (!scan.infected) return {};
  return {
    status: 'failed',
    errorCode: 'infected',
    errorMessage: `The file contains malware (${scan.signature}); it was deleted.`,
    completedAt: now,
  };
}
