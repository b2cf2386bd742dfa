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
  /** Number of a user's (or all) jobs by status. */
  abstract countByStatus(userId?: string): Promise<Record<JobStatus, number>>;
  /** Number of all jobs by status and file type (for metrics). */
  abstract countByStatusAndType(): Promise<{ status: JobStatus; fileType: FileType; count: number }[]>;

  abstract ping(): Promise<void>;
}
