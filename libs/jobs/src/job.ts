import type { FileType, JobErrorCode, JobStatus, ThumbnailPosition } from '@app/shared';

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
  /** Why it failed (set with `errorMessage`); null otherwise. */
  errorCode: JobErrorCode | null;
  /** Storage key of the uploaded file. */
  originalKey: string;
  /** Storage key of the thumbnail, once there is one. */
  thumbnailKey: string | null;
  /** Storage keys of the other renditions, once there are some. */
  thumbnail2xKey: string | null;
  previewKey: string | null;
  animatedPreviewKey: string | null;
  /** ThumbHash of the thumbnail, base64. */
  thumbhash: string | null;
  /** Of the original, after orientation. */
  width: number | null;
  height: number | null;
  /** Videos only. */
  durationMs: number | null;
  /** Hash of the original's bytes, for duplicate detection. */
  contentHash: string | null;
  /** Where the square renditions are cropped. */
  position: ThumbnailPosition;
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
  /** When it went to the trash; null when it is not there. */
  deletedAt: Date | null;
}

/** Fields a status transition may set along with the status. */
export type JobPatch = Partial<
  Pick<
    Job,
    | 'errorMessage'
    | 'errorCode'
    | 'thumbnailKey'
    | 'thumbnail2xKey'
    | 'previewKey'
    | 'animatedPreviewKey'
    | 'thumbhash'
    | 'width'
    | 'height'
    | 'durationMs'
    | 'contentHash'
    | 'claimToken'
    | 'requestId'
    | 'startedAt'
    | 'completedAt'
    | 'deletedAt'
  >
> & {
  incrementAttempts?: boolean;
};

/** What a job holds before a worker has processed it: no failure, no renditions, no measurements. */
export const UNPROCESSED = {
  errorMessage: null,
  errorCode: null,
  thumbnailKey: null,
  thumbnail2xKey: null,
  previewKey: null,
  animatedPreviewKey: null,
  thumbhash: null,
  width: null,
  height: null,
  durationMs: null,
} as const satisfies JobPatch;

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
