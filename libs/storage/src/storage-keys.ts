import { InvalidKeyError } from './storage.driver';

const SEGMENT = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const ID = /^[A-Za-z0-9-]{1,64}$/;

/**
 * A key is 1-8 segments of letters, digits, ".", "_" and "-", none starting with a dot, so
 * "..", absolute paths, backslashes and empty segments can never appear.
 */
export function assertValidKey(key: string): void {
  const segments = key.split('/');
  if (key.length > 512 || segments.length > 8 || !segments.every((segment) => SEGMENT.test(segment))) {
    throw new InvalidKeyError(key);
  }
}

/** Where the service keeps what (same layout on disk and in a bucket). */
export const StorageKeys = {
  original(jobId: string): string {
    if (!ID.test(jobId)) throw new InvalidKeyError(jobId);
    return `uploads/${jobId}`;
  },
  thumbnail(jobId: string): string {
    if (!ID.test(jobId)) throw new InvalidKeyError(jobId);
    return `processed/${jobId}/thumb.jpg`;
  },
};
