import type { Readable } from 'node:stream';

export interface StoredObject {
  size: number;
  modifiedAt: Date;
}

/** One object as `list` reports it. */
export interface ListedObject extends StoredObject {
  key: string;
}

/** Bytes `start` to `end` of an object, both included (as in HTTP `Range`). */
export interface ByteRange {
  start: number;
  end: number;
}

export interface PutOptions {
  contentType?: string;
  /** The write fails with ObjectTooLargeError once more bytes than this arrive. */
  maxBytes?: number;
}

/**
 * Blob storage port. Keys are relative, slash-separated names made by `StorageKeys`; a driver
 * refuses any key that could leave its root. Implemented by the local-disk and S3 drivers.
 */
export abstract class StorageDriver {
  abstract readonly kind: 'file' | 's3';

  /** Streams `body` into `key`; the object appears whole or not at all. */
  abstract put(key: string, body: Readable | Buffer, options?: PutOptions): Promise<StoredObject>;

  /**
   * A stream of the object's bytes, or of the inclusive byte `range` of them (the caller checks it
   * against the size first); rejects with ObjectNotFoundError.
   */
  abstract read(key: string, range?: ByteRange): Promise<Readable>;

  abstract stat(key: string): Promise<StoredObject | null>;

  /** Removes the object; removing a missing object is not an error. */
  abstract delete(key: string): Promise<void>;

  /**
   * Every object under the folder `prefix` (`uploads/`, `processed/`: a key prefix ending in "/"),
   * in no set order, each with its size and last change. Only keys `StorageKeys` could have made
   * are reported. Objects added or removed while the listing runs may or may not be reported.
   */
  abstract list(prefix: string): AsyncIterable<ListedObject>;

  /**
   * Runs `work` with a path to a local file holding the object (the file itself on disk, a
   * temporary download elsewhere, removed afterwards), so decoders can seek and shrink on load.
   */
  abstract withLocalFile<T>(key: string, work: (file: string) => Promise<T>): Promise<T>;

  /**
   * Resolves when the storage can be read and written; for health checks. It may resolve a warning
   * (a disk nearly full): still up, since reading and deleting, which free space, go on.
   */
  abstract ping(): Promise<string | void>;
}

export class ObjectNotFoundError extends Error {
  constructor(readonly key: string) {
    super(`No stored object "${key}"`);
    this.name = 'ObjectNotFoundError';
  }
}

/** Whether `error` (or what caused it) is the file system saying it is full (ENOSPC) or over a quota (EDQUOT). */
export function isStorageFull(error: unknown): boolean {
  for (let current = error, depth = 0; current && depth < 5; current = (current as { cause?: unknown }).cause, depth += 1) {
    const code = (current as { code?: unknown }).code;
    if (code === 'ENOSPC' || code === 'EDQUOT') return true;
  }
  return false;
}

/** What a person is told when the storage is full. */
export const STORAGE_FULL_MESSAGE =
  "The server's storage is full: nothing of this was kept. Try again later; tell the operator if it lasts.";

export class ObjectTooLargeError extends Error {
  constructor(readonly maxBytes: number) {
    super(`The object is larger than ${maxBytes} bytes`);
    this.name = 'ObjectTooLargeError';
  }
}

export class InvalidKeyError extends Error {
  constructor(readonly key: string) {
    super(`Invalid storage key "${key}"`);
    this.name = 'InvalidKeyError';
  }
}
