import type { FileType, JobStatus } from '@app/shared';
import type { Job, JobPatch } from './job';

export interface ListQuery {
  status?: JobStatus;
  limit: number;
  /** Only jobs with an id below this one (ids sort by creation time). */
  before?: string;
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

export type IdempotencyClaim = { state: 'claimed' } | { state: 'in-progress' } | { state: 'done'; response: string };

/**
 * Persistence port for jobs; adapters: SQLite and MongoDB. Every status change is one atomic
 * compare-and-set (`transition`), so two workers can never both move the same job and a finished
 * job never moves back.
 */
export abstract class JobsRepository {
  abstract insertMany(jobs: readonly Job[]): Promise<void>;
  abstract findById(id: string): Promise<Job | null>;
  /** The job, only if `userId` owns it. */
  abstract findOwned(id: string, userId: string): Promise<Job | null>;
  /** The user's jobs, newest first. */
  abstract list(userId: string, query: ListQuery): Promise<Job[]>;
  /** Atomically moves one job; resolves the updated job, or null when the condition did not hold. */
  abstract transition(id: string, request: TransitionRequest): Promise<Job | null>;
  /** Moves every listed job that satisfies the condition; resolves the ids that moved. */
  abstract transitionMany(ids: readonly string[], request: TransitionRequest): Promise<string[]>;
  /** Deletes the job if `userId` owns it; resolves what was deleted. */
  abstract deleteOwned(id: string, userId: string): Promise<Job | null>;
  /** Jobs not yet completed or failed, oldest first; `updatedBefore` limits to ones untouched since. */
  abstract findUnfinished(options?: { updatedBefore?: Date; limit?: number }): Promise<Job[]>;
  /**
   * Completed jobs with a thumbnail but no 2× thumbnail (made before the renditions existed),
   * newest first, only ids below `before` when given: the backfill's work list.
   */
  abstract findMissingRenditions(options: { before?: string; limit: number }): Promise<Job[]>;
  /** Number of a user's (or all) jobs by status. */
  abstract countByStatus(userId?: string): Promise<Record<JobStatus, number>>;
  /** Number of all jobs by status and file type (for metrics). */
  abstract countByStatusAndType(): Promise<{ status: JobStatus; fileType: FileType; count: number }[]>;

  /** Reserves an Idempotency-Key for a user, or reports the state of an earlier use of it. */
  abstract claimIdempotencyKey(userId: string, key: string, now: Date): Promise<IdempotencyClaim>;
  abstract completeIdempotencyKey(userId: string, key: string, response: string): Promise<void>;
  abstract releaseIdempotencyKey(userId: string, key: string): Promise<void>;

  abstract ping(): Promise<void>;

  /**
   * Records re-made renditions on a completed job without moving it (completed → completed, no
   * status change, so no event); null when it is no longer completed or is gone.
   */
  recordRenditions(id: string, set: JobPatch): Promise<Job | null> {
    return this.transition(id, { from: ['completed'], to: 'completed', set });
  }
}

/** Idempotency keys are kept this long. */
export const IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;
