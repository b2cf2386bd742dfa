/**
 * - waiting: in line (a few files go up at once); nothing is moving yet
 * - uploading: bytes on their way, then the server checking and storing them
 * - paused: a resumable upload stopped by the user, to go on from where it is
 * - done: the server made a job of it (the job is then followed live)
 * - rejected: the server refused the file (type, size, empty, duplicate…); sending it again will not help
 * - failed: the request failed (network, server); it can be retried with the same key
 * - cancelled: stopped by the user
 */
export type UploadState = 'waiting' | 'uploading' | 'paused' | 'done' | 'rejected' | 'failed' | 'cancelled';

/** A file picked or dropped by the user and what became of it. */
export interface UploadItem {
  /** Local id, for tracking in lists. */
  readonly id: string;
  readonly file: File;
  /** Where the file was inside a folder that was picked or dropped ('' for a loose file). */
  readonly folderPath: string;
  /** Sent as `Idempotency-Key`; the same for every attempt of this file. */
  readonly key: string;
  readonly state: UploadState;
  readonly loaded: number;
  readonly total: number;
  /** Why it was rejected or failed. */
  readonly message: string | null;
  readonly jobIds: readonly string[];
  /** Goes up over tus (resumable; can pause), not as one request. */
  readonly resumable: boolean;
  /** Sent with `allowDuplicates=true` (the user chose "upload anyway"). */
  readonly allowDuplicates: boolean;
  /** Rejected as a duplicate of this job of the user's. */
  readonly duplicateOf: string | null;
}

export function isFinished(item: UploadItem): boolean {
  return item.state !== 'waiting' && item.state !== 'uploading' && item.state !== 'paused';
}
