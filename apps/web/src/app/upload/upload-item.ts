/**
 * - waiting: in line (a few files go up at once)
 * - uploading: bytes on their way, then the server checking and storing them
 * - done: the server made a job of it
 * - rejected: the server refused the file (type, size, empty…); sending it again will not help
 * - failed: the request failed (network, server); it can be retried with the same key
 * - cancelled: stopped by the user
 */
export type UploadState = 'waiting' | 'uploading' | 'done' | 'rejected' | 'failed' | 'cancelled';

/** A file picked or dropped by the user and what became of it. */
export interface UploadItem {
  /** Local id, for tracking in lists. */
  readonly id: string;
  readonly file: File;
  /** Sent as `Idempotency-Key`; the same for every attempt of this file. */
  readonly key: string;
  readonly state: UploadState;
  readonly loaded: number;
  readonly total: number;
  /** Why it was rejected or failed. */
  readonly message: string | null;
  readonly jobIds: readonly string[];
}

export function isFinished(item: UploadItem): boolean {
  return item.state !== 'waiting' && item.state !== 'uploading';
}
