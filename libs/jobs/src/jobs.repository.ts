import type { FileType, JobStatus } from '@app/shared';
import type { Job, JobPatch } from './job';

/** Orders of a user's list: by upload time either way, by file name (case-insensitive), by size (largest first). */
export const JOB_SORTS = ['newest', 'oldest', 'name', 'size'] as const;
export type JobSort = (typeof JOB_SORTS)[number];

/**
 * Each order is one key and the id as tie-break, both in one direction: newest (createdAt, id
 * descending), oldest (ascending), name (lower-cased file name, id ascending), size (fileSize, id
 * descending); the order the web app sorts by too.
 */
export const SORT_DESCENDING: Readonly<Record<JobSort, boolean>> = { newest: true, oldest: false, name: false, size: true };

/** Where a job stands in an order: its key (milliseconds, lower-cased name or bytes) and its id. */
export interface ListPosition {
  key: number | string;
  id: string;
}

/** The key a job is ordered by under `sort`. */
export function sortKeyOf(job: Pick<Job, 'createdAt' | 'originalFilename' | 'fileSize'>, sort: JobSort): number | string {
  if (sort === 'name') return nameKeyOf(job.originalFilename);
  return sort === 'size' ? job.fileSize : job.createdAt.getTime();
}

/** A file name as it is searched and ordered: lower-cased (stored beside the name by both adapters). */
export function nameKeyOf(originalFilename: string): string {
  return originalFilename.toLowerCase();
}

export interface ListQuery {
  status?: JobStatus;
  type?: FileType;
  /** Only names containing this (compared lower-cased; taken literally, no wildcards). */
  search?: string;
  /** Default `newest`. */
  sort?: JobSort;
  limit: number;
  /** Only jobs after this position in the order. */
  after?: ListPosition;
  /** The trash (jobs with `deletedAt`) instead of the library (jobs without). */
  trashed?: boolean;
}

export interface LibraryCount {
  status: JobStatus;
  fileType: FileType;
  trashed: boolean;
  count: number;
  /** Sum of `fileSize`. */
  bytes: number;
}

export interface TransitionRequest {
  /** The job moves only if its status is one of these. */
  from: readonly JobStatus[];
  to: JobStatus;
  /** When given, the job moves only if it is held with this claim token. */
  claimToken?: string;
  set?: JobPatch;
  now?: Date;
}

/**
 * Persistence port for jobs; adapters: SQLite and MongoDB. Every status change is one atomic
 * compare-and-set (`transition`), so two workers can never both move the same job and a finished
 * job never moves back.
 */
export abstract class JobsRepository {
  abstract insertMany(jobs: Iterable<Job>): Promise<void>;
  abstract findById(id: string): Promise<Job | null>;
  /** The job, only if `userId` owns it. */
  abstract findOwned(id: string, userId: string): Promise<Job | null>;
  /** The user's jobs (or their trash) matching the query, in its order. */
  abstract list(userId: string, query: ListQuery): Promise<Job[]>;
  /** Atomically moves one job; resolves the updated job, or null when the condition did not hold. */
  abstract transition(id: string, request: TransitionRequest): Promise<Job | null>;
  /** Moves every listed job that satisfies the condition; resolves the ids that moved. */
  abstract transitionMany(ids: readonly string[], request: TransitionRequest): Promise<string[]>;
  /** Deletes the job if `userId` owns it; resolves what was deleted. */
  abstract deleteOwned(id: string, userId: string): Promise<Job | null>;
  /** Moves the listed jobs of `userId` that are not in the trash to it (`deletedAt = at`); resolves the ids that moved. */
  abstract trash(userId: string, ids: readonly string[], at: Date): Promise<string[]>;
  /** Takes the listed jobs of `userId` that are in the trash out of it; resolves the ids that moved. */
  abstract restore(userId: string, ids: readonly string[]): Promise<string[]>;
  /** Jobs that went to the trash before `cutoff`, longest there first. */
  abstract findTrashedBefore(cutoff: Date, limit: number): Promise<Job[]>;
  /** Deletes the job only if it is (still) in the trash since before `cutoff`; resolves what was deleted. */
  abstract deleteTrashed(id: string, cutoff: Date): Promise<Job | null>;
  /** Jobs not yet completed or failed, oldest first; `updatedBefore` limits to ones untouched since. */
  abstract findUnfinished(options?: { updatedBefore?: Date; limit?: number }): Promise<Job[]>;
  /** The listed jobs that `userId` owns (any order; missing and others' ids are left out). */
  abstract findOwnedMany(userId: string, ids: readonly string[]): Promise<Job[]>;
  /** Which of `ids` are jobs (of anyone, in the library or the trash): for the storage's orphan sweep. */
  abstract existingIds(ids: readonly string[]): Promise<Set<string>>;
  /** A user's jobs counted and their original bytes summed, by status, type and whether in the trash. */
  abstract libraryCounts(userId: string): Promise<LibraryCount[]>;
  /**
   * Completed jobs with a thumbnail but no 2× thumbnail (made before the renditions existed),
   * newest first, only ids below `before` when given: the backfill's work list.
   */
  abstract findMissingRenditions(options: { before?: string; limit: number }): Promise<Job[]>;
  /** Number of a user's (or all) jobs by status. */
  abstract countByStatus(userId?: string): Promise<Record<JobStatus, number>>;
  /** Number of all jobs by status and file type (for metrics). */
  abstract countByStatusAndType(): Promise<{ status: JobStatus; fileType: FileType; count: number }[]>;

  abstract ping(): Promise<void>;
  /** Bytes of originals the user keeps (every job of theirs, the trash too): what USER_QUOTA_BYTES limits. */
  abstract originalBytes(userId: string): Promise<number>;
  /** The user's jobs (not in the trash) with one of these content hashes, oldest first. */
  abstract findByContentHashes(userId: string, hashes: readonly string[]): Promise<Pick<Job, 'id' | 'originalFilename' | 'contentHash'>[]>;

  /**
   * Records re-made renditions on a completed job without moving it (completed → completed, no
   * status change, so no event); null when it is no longer completed or is gone.
   */
  recordRenditions(id: string, set: JobPatch): Promise<Job | null> {
    return this.transition(id, { from: ['completed'], to: 'completed', set });
  }
}
