import { JOB_STATUSES, type FileType, type JobErrorCode, type JobStatus, type ThumbnailPosition } from '@app/shared';

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

/** Storage keys of everything stored for a job: the original and whichever renditions it has. */
export function fileKeysOf(job: Job): string[] {
  return [job.originalKey, job.thumbnailKey, job.thumbnail2xKey, job.previewKey, job.animatedPreviewKey].filter(
    (key): key is string => typeof key === 'string' && key !== '',
  );
}

/** A named move of the lifecycle: the statuses it may start from, where it goes, and whether only the holder of the job's claim may make it. */
export interface Move {
  from: readonly JobStatus[];
  to: JobStatus;
  held?: true;
}

/**
 * The lifecycle: every move a job can make, by name. `JobLifecycle.transition` is the only caller
 * of the repository's compare-and-set, and it takes the `from` states (and the claim check) from
 * here, so a move is written down once. A move that keeps the status (`reclaim`) is not a status
 * change and publishes no event.
 */
export const MOVES = {
  /** A stored upload (or a job the sweep found unqueued) joins its user's queue. */
  queue: { from: ['pending'], to: 'queued' },
  /** A user sends a failed job again. */
  retry: { from: ['failed'], to: 'queued' },
  /** A worker starts the job. */
  claim: { from: ['pending', 'queued'], to: 'processing' },
  /** A worker takes over a job whose previous worker died (BullMQ's stalled check gave it the job). */
  reclaim: { from: ['processing'], to: 'processing' },
  /** The holder gives the job back for another run (a transient error, or shutting down). */
  handBack: { from: ['processing'], to: 'queued', held: true },
  complete: { from: ['processing'], to: 'completed', held: true },
  fail: { from: ['processing'], to: 'failed', held: true },
  /** BullMQ gave up on the job: its workers kept dying on it. */
  abandon: { from: ['pending', 'queued', 'processing'], to: 'failed' },
} as const satisfies Record<string, Move>;

export type MoveName = keyof typeof MOVES;

/** Moves only the claim's holder may make. */
export type HeldMove = { [M in MoveName]: (typeof MOVES)[M] extends { held: true } ? M : never }[MoveName];

/** Whether a move changes the status (and so publishes an event). */
export function changesStatus(move: MoveName): boolean {
  return !(MOVES[move].from as readonly JobStatus[]).includes(MOVES[move].to);
}

/** The legal status changes, from MOVES: status → the statuses a job may move to from it. */
export const TRANSITIONS: Readonly<Record<JobStatus, readonly JobStatus[]>> = Object.fromEntries(
  JOB_STATUSES.map((from) => [
    from,
    JOB_STATUSES.filter((to) => Object.values(MOVES).some((move: Move) => move.to === to && move.from.includes(from))),
  ]),
) as Record<JobStatus, JobStatus[]>;

/** Statuses a job may move to `to` from. */
export function sourcesOf(to: JobStatus): JobStatus[] {
  return (Object.keys(TRANSITIONS) as JobStatus[]).filter((from) => TRANSITIONS[from].includes(to));
}
