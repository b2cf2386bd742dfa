import { InvalidKeyError } from './storage.driver';

const SEGMENT = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const ID = /^[A-Za-z0-9-]{1,64}$/;

/**
 * A key is 1-8 segments of letters, digits, ".", "_" and "-", none starting with a dot, so
 * "..", absolute paths, backslashes and empty segments can never appear.
 */
export function isValidKey(key: string): boolean {
  const segments = key.split('/');
  return key.length <= 512 && segments.length <= 8 && segments.every((segment) => SEGMENT.test(segment));
}

/** Throws InvalidKeyError for a key `isValidKey` refuses. */
export function assertValidKey(key: string): void {
  if (!isValidKey(key)) throw new InvalidKeyError(key);
}

/** A folder prefix for `StorageDriver.list`: valid segments followed by "/". */
export function assertValidPrefix(prefix: string): void {
  if (!prefix.endsWith('/') || !isValidKey(prefix.slice(0, -1))) throw new InvalidKeyError(prefix);
}

/** The renditions a worker makes of a job, and the file each one is stored as under `processed/<jobId>/`. */
export const RENDITION_FILES = {
  thumbnail: 'thumb.jpg',
  thumbnail2x: 'thumb-2x.jpg',
  preview: 'preview.webp',
  animatedPreview: 'animated.webp',
} as const;
export type RenditionKind = keyof typeof RENDITION_FILES;

/** Where the service keeps what (same layout on disk and in a bucket). */
export const StorageKeys = {
  original(jobId: string): string {
    if (!ID.test(jobId)) throw new InvalidKeyError(jobId);
    return `uploads/${jobId}`;
  },
  thumbnail(jobId: string): string {
    if (!ID.test(jobId)) throw new InvalidKeyError(jobId);
    return StorageKeys.rendition(jobId, 'thumbnail');
  },
  /** One rendition of a job, under the job's prefix (`processed/<jobId>/`). */
  rendition(jobId: string, kind: RenditionKind): string {
    if (!ID.test(jobId)) throw new InvalidKeyError(jobId);
    return `processed/${jobId}/${RENDITION_FILES[kind]}`;
  },
  /**
   * The job a stored key belongs to (`uploads/<jobId>`, `processed/<jobId>/<file>`), or null for a
   * key of another shape.
   */
  jobIdOf(key: string): string | null {
    const [folder, jobId, file, ...more] = key.split('/');
    const shaped = folder === 'uploads' ? file === undefined : folder === 'processed' && file !== undefined && more.length === 0;
    return shaped && ID.test(jobId) ? jobId : null;
  },
  /** Every rendition key a job may have (deleting a missing one is not an error, so delete can remove them all). */
  renditionKeys(jobId: string): string[] {
    return (Object.keys(RENDITION_FILES) as RenditionKind[]).map((kind) => StorageKeys.rendition(jobId, kind));
  },
};
