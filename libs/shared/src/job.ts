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

/** A job as every client sees it (REST and the web app). Times are ISO 8601. */
export interface JobView {
  id: string;
  originalFilename: string;
  fileType: FileType;
  mimeType: string;
  fileSize: number;
  status: JobStatus;
  errorMessage: string | null;
  thumbnailUrl: string | null;
  downloadUrl: string | null;
  createdAt: string;
  updatedAt: string;
  completedAt: string | null;
}

export interface JobPage {
  items: JobView[];
  nextCursor: string | null;
}

export const REJECTION_CODES = ['unsupported_type', 'too_large', 'empty', 'type_mismatch'] as const;
export type RejectionCode = (typeof REJECTION_CODES)[number];

/** A file of an upload that was not accepted; the other files of the request go on. */
export interface Rejected {
  originalFilename: string;
  code: RejectionCode;
  message: string;
}

export interface UploadResult {
  jobs: JobView[];
  rejected: Rejected[];
}

/** Largest page `GET /api/jobs` returns. */
export const MAX_PAGE_SIZE = 200;
export const DEFAULT_PAGE_SIZE = 50;
