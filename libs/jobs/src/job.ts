import type { FileType, JobStatus } from '@app/shared';

/** A thumbnail job as stored. */
export interface Job {
  id: string;
  userId: string;
  originalFilename: string;
  fileType: FileType;
  mimeType: string;
  fileSize: number;
  status: JobStatus;
  errorMessage: string | null;
  /** Storage key of the uploaded file. */
  originalKey: string;
  /** Storage key of the thumbnail, once there is one. */
  thumbnailKey: string | null;
  /** Set when a worker claims the job; only the holder may finish it. */
  claimToken: string | null;
  /** How many times a worker has started on the job. */
  attempts: number;
  /** Id of the HTTP request that created (or last retried) the job, for log correlation. */
  requestId: string | null;
  createdAt: Date;
  updatedAt: Date;
  startedAt: Date | null;
  completedAt: Date | null;
}

/** Fields a status transition may set along with the status. */
export type JobPatch = Partial<Pick<Job, 'errorMessage' | 'thumbnailKey' | 'claimToken' | 'requestId' | 'startedAt' | 'completedAt'>> & {
  incrementAttempts?: boolean;
};

/**
 * The legal moves. `processing → processing` is a worker re-claiming a job whose previous worker
 * died; `processing → queued` hands a job back for a retry after a transient error.
 */
export const TRANSITIONS: Readonly<Record<JobStatus, readonly JobStatus[]>> = {
  pending: ['queued', 'processing', 'failed'],
  queued: ['processing', 'failed'],
  processing: ['processing', 'queued', 'completed', 'failed'],
  completed: [],
  failed: ['queued'],
};

/** Statuses a job may move to `to` from. */
export function sourcesOf(to: JobStatus): JobStatus[] {
  return (Object.keys(TRANSITIONS) as JobStatus[]).filter((from) => TRANSITIONS[from].includes(to));
}
