import { Injectable, Logger } from '@nestjs/common';
import { AppConfig, ConflictError, InvalidInputError, isId, NotFoundError } from '@app/core';
import {
  DEFAULT_PAGE_SIZE,
  FileType,
  formatBytes,
  JobStatus,
  MAX_PAGE_SIZE,
  Rejected,
  THUMBNAIL_POSITIONS,
  ThumbnailPosition,
} from '@app/shared';
import { StorageDriver, StorageKeys } from '@app/storage';
import type { StoredUpload } from './intake/upload-intake';
import { fileKeysOf, Job, UNPROCESSED } from './job';
import { JobSort, JobsRepository, sortKeyOf } from './jobs.repository';
import { decodeCursor, encodeCursor } from './library/list-cursor';
import { JobLifecycle } from './lifecycle/job-lifecycle';
import { ScanResult, VirusScanner } from './scanning/virus-scanner';

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

/**
 * The `allowDuplicates` field (multipart) or metadata (tus): `true` or `false`, any case, and the
 * spellings a form's checkbox or a script sends for them (`on`, `1`, `yes`; `off`, `0`, `no`);
 * absent or empty is false, anything else a 400 (it was taken as false without a word).
 */
export function parseAllowDuplicates(value: unknown): boolean {
  if (value === undefined || value === null) return false;
  const text = typeof value === 'string' ? value.trim().toLowerCase() : undefined;
  if (text !== undefined && ['true', 'on', '1', 'yes'].includes(text)) return true;
  if (text !== undefined && ['false', 'off', '0', 'no', ''].includes(text)) return false;
  throw new InvalidInputError('allowDuplicates must be true or false');
}

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
    private readonly config: AppConfig,
    private readonly scanner: VirusScanner,
  ) {}

  /** Per user, one request at a time between the last checks and the insert (this process). */
  private readonly userLocks = new Map<string, Promise<unknown>>();

  /**
   * Turns a request's stored files into jobs after the last checks, in upload order: each must
   * still fit in USER_QUOTA_BYTES (the intake checks while streaming; this settles requests of the
   * same user that raced each other, serialised per user in this process). Refused files are
   * deleted from storage and listed in `rejected`.
   */
  async acceptUploads(
    userId: string,
    uploads: readonly StoredUpload[],
    requestId: string | null,
    options: { allowDuplicates?: boolean } = {},
  ): Promise<{ jobs: Job[]; rejected: Rejected[] }> {
    return this.forUser(userId, async () => {
      const unique = options.allowDuplicates ? { accepted: [...uploads], rejected: [] } : await this.screenDuplicates(userId, uploads);
      const { accepted, rejected } = await this.screenUploads(userId, unique.accepted);
      rejected.unshift(...unique.rejected);
      return { jobs: await this.createFromUploads(userId, accepted, requestId), rejected };
    });
  }

  private async forUser<T>(userId: string, work: () => Promise<T>): Promise<T> {
    const previous = this.userLocks.get(userId) ?? Promise.resolve();
    const run = previous.then(work, work);
    const settled = run.catch(() => undefined);
    this.userLocks.set(userId, settled);
    try {
      return await run;
    } finally {
      if (this.userLocks.get(userId) === settled) this.userLocks.delete(userId);
    }
  }

  /**
   * Files whose content the user already has (a job not in the trash, or an earlier file of the
   * same request) are refused as `duplicate`, naming that job; their stored copies are deleted.
   */
  private async screenDuplicates(
    userId: string,
    uploads: readonly StoredUpload[],
  ): Promise<{ accepted: StoredUpload[]; rejected: Rejected[] }> {
    const hashes = [...new Set(uploads.flatMap((upload) => (upload.contentHash ? [upload.contentHash] : [])))];
    const seen = new Map<string, { id: string; originalFilename: string }>();
    for (const job of await this.jobs.findByContentHashes(userId, hashes)) {
      if (job.contentHash && !seen.has(job.contentHash)) seen.set(job.contentHash, job);
    }
    const accepted: StoredUpload[] = [];
    const rejected: Rejected[] = [];
    for (const upload of uploads) {
      const existing = upload.contentHash ? seen.get(upload.contentHash) : undefined;
      if (existing) {
        rejected.push({
          originalFilename: upload.originalFilename,
          code: 'duplicate',
          message: `“${upload.originalFilename}” is already in your library as “${existing.originalFilename}”. Send it with allowDuplicates=true to upload it anyway.`,
          existingJobId: existing.id,
        });
        await this.storage.delete(upload.key).catch(() => undefined);
        continue;
      }
      if (upload.contentHash) seen.set(upload.contentHash, { id: upload.jobId, originalFilename: upload.originalFilename });
      accepted.push(upload);
    }
    return { accepted, rejected };
  }

  private async screenUploads(
    userId: string,
    uploads: readonly StoredUpload[],
  ): Promise<{ accepted: StoredUpload[]; rejected: Rejected[] }> {
    const accepted: StoredUpload[] = [];
    const rejected: Rejected[] = [];
    const quota = this.config.upload.userQuotaBytes;
    let used = quota > 0 && uploads.length > 0 ? await this.jobs.originalBytes(userId) : 0;
    for (const upload of uploads) {
      if (quota > 0 && used + upload.size > quota) {
        rejected.push({
          originalFilename: upload.originalFilename,
          code: 'quota_exceeded',
          message:
            `“${upload.originalFilename}” (${formatBytes(upload.size)}) does not fit in your storage quota: ` +
            `${formatBytes(used)} of ${formatBytes(quota)} used. Delete some files first.`,
        });
        await this.storage.delete(upload.key).catch(() => undefined);
        continue;
      }
      used += upload.size;
      accepted.push(upload);
    }
    return { accepted, rejected };
  }

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
      contentHash: upload.contentHash ?? null,
      position: upload.position ?? position,
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
      await this.discardUploads(uploads);
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

  /** Bytes of originals the user keeps (what USER_QUOTA_BYTES limits). */
  originalBytes(userId: string): Promise<number> {
    return this.jobs.originalBytes(userId);
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
    // Every key a rendition may have, not only the recorded ones: a run that stored files and then lost its claim leaves none behind.
    const keys = [...new Set([...fileKeysOf(job), ...StorageKeys.renditionKeys(job.id)])];
    await Promise.all(
      keys.map((key) =>
        this.storage.delete(key).catch((error: Error) => this.logger.warn(`Could not delete ${key} of job ${job.id}: ${error.message}`)),
      ),
    );
  }

  /** Looks a job up by id alone, for signed-URL access (the caller checks the signature against the owner). */
  findById(jobId: string): Promise<Job | null> {
    return isId(jobId) ? this.jobs.findById(jobId) : Promise.resolve(null);
  }

  /** Resolves when the database can take a write now; a 503 error otherwise (so a doomed upload fails before its body). */
  ready(): Promise<void> {
    return this.jobs.ping();
  }

  /** Jobs of every user still waiting for a worker: pending, queued or processing. */
  async countWaiting(): Promise<number> {
    const counts = await this.jobs.countByStatus();
    return counts.pending + counts.queued + counts.processing;
  }

  /** Every job, counted by status and file type (for metrics). */
  countByStatusAndType(): Promise<{ status: JobStatus; fileType: FileType; count: number }[]> {
    return this.jobs.countByStatusAndType();
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
