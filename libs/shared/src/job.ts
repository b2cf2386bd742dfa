/** Lifecycle of a thumbnail job. See CONTRACT.md, "Job lifecycle". */
export const JOB_STATUSES = ['pending', 'queued', 'processing', 'completed', 'failed'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

/** Statuses after which a job does nothing more until a user retries it. */
export const TERMINAL_STATUSES: readonly JobStatus[] = ['completed', 'failed'];

export function isTerminalStatus(status: JobStatus): boolean {
  return status === 'completed' || status === 'failed';
}

export const FILE_TYPES = ['image', 'video'] as const;
export type FileType = (typeof FILE_TYPES)[number];

/** Where the square renditions are cropped: the centre, the most salient region, or the busiest. */
export const THUMBNAIL_POSITIONS = ['centre', 'attention', 'entropy'] as const;
export type ThumbnailPosition = (typeof THUMBNAIL_POSITIONS)[number];

/**
 * Why a job failed (`Job.errorCode`), for clients and metrics; `errorMessage` says it to a person.
 * - `undecodable`: the file is not media the service can read (damaged, or not what it claims)
 * - `truncated`: the file stops before its data does (an incomplete upload or copy)
 * - `unsupported_codec`: a video codec the server's ffmpeg cannot decode
 * - `no_video_stream`: a "video" with no picture (audio only, or no streams)
 * - `too_many_pixels`: more pixels than `MAX_INPUT_PIXELS` (or, per video frame, `MAX_VIDEO_PIXELS`) allows, or a side over 65,535
 * - `timeout`: processing took longer than `JOB_TIMEOUT_MS`
 * - `missing_original`: the uploaded file is gone from storage
 * - `internal`: an error of the service, several times in a row
 * - `abandoned`: the worker died (crashed or was killed) every time it handled the file
 */
export const JOB_ERROR_CODES = [
  'undecodable',
  'truncated',
  'unsupported_codec',
  'no_video_stream',
  'too_many_pixels',
  'timeout',
  'missing_original',
  'internal',
  'abandoned',
  'infected',
] as const;
export type JobErrorCode = (typeof JOB_ERROR_CODES)[number];

/** Failures a retry cannot fix: the file itself is the problem (or it is gone). */
export const PERMANENT_ERROR_CODES: readonly JobErrorCode[] = [
  'undecodable',
  'truncated',
  'unsupported_codec',
  'no_video_stream',
  'too_many_pixels',
  'missing_original',
  'infected',
];

export function isJobErrorCode(value: unknown): value is JobErrorCode {
  return (JOB_ERROR_CODES as readonly unknown[]).includes(value);
}

/** `JobView.retryable`: a failed job whose failure a retry may fix (an unknown cause counts as such). */
export function isRetryable(status: JobStatus, errorCode: JobErrorCode | null): boolean {
  return status === 'failed' && (errorCode === null || !PERMANENT_ERROR_CODES.includes(errorCode));
}

/** A job as every client sees it (REST and the web app). Times are ISO 8601. */
export interface JobView {
  id: string;
  originalFilename: string;
  fileType: FileType;
  mimeType: string;
  fileSize: number;
  status: JobStatus;
  errorMessage: string | null;
  /** Why it failed, machine-readable; null unless failed (and for jobs failed before codes existed). */
  errorCode: JobErrorCode | null;
  /** Whether retrying may help: false for a failure the file itself causes. Derived from `status` and `errorCode`. */
  retryable: boolean;
  thumbnailUrl: string | null;
  downloadUrl: string | null;
  /** 2× the thumbnail's edge, for high-density screens. */
  thumbnail2xUrl: string | null;
  /** WebP, longest edge `PREVIEW_SIZE`. */
  previewUrl: string | null;
  /** Videos: an animated WebP of a few frames across the clip. */
  animatedPreviewUrl: string | null;
  /**
   * The original, streamed back to its owner (its sniffed type, `Range` support). This server sends
   * it for every job in every state; optional in the type only for clients of servers from before it.
   */
  originalUrl?: string;
  /** ThumbHash of the thumbnail, base64: a placeholder to paint before it loads. */
  thumbhash: string | null;
  /** Of the original, after orientation. */
  width: number | null;
  height: number | null;
  /** Videos only. */
  durationMs: number | null;
  /** Hash of the original's bytes (duplicate detection); null until it is computed at upload. */
  contentHash: string | null;
  position: ThumbnailPosition;
  createdAt: string;
  updatedAt: string;
  completedAt: string | null;
  /** When it went to the trash; null when it is not there. */
  deletedAt: string | null;
}

export interface JobPage {
  items: JobView[];
  nextCursor: string | null;
}

export const REJECTION_CODES = ['unsupported_type', 'too_large', 'empty', 'type_mismatch', 'quota_exceeded', 'duplicate'] as const;
export type RejectionCode = (typeof REJECTION_CODES)[number];

/** A file of an upload that was not accepted; the other files of the request go on. */
export interface Rejected {
  originalFilename: string;
  code: RejectionCode;
  message: string;
  /** `duplicate`: the user's job that already has this content. */
  existingJobId?: string;
}

export interface UploadResult {
  jobs: JobView[];
  rejected: Rejected[];
}

/** Largest page `GET /api/jobs` returns. */
export const MAX_PAGE_SIZE = 200;
export const DEFAULT_PAGE_SIZE = 50;
