import { JOB_STATUSES, JobPage, JobStatus, JobStatusEvent, JobView } from '@app/shared';
import fc from 'fast-check';

let sequence = 0;

/** An ISO timestamp `ms` after 2025-01-01, for `createdAt` and `updatedAt`. */
export const at = (ms: number): string => new Date(Date.UTC(2025, 0, 1) + ms).toISOString();

/** A job as the API sends it, consistent with its status; override what the test is about. */
export function aJob(overrides: Partial<JobView> = {}): JobView {
  sequence += 1;
  const createdAt = new Date(Date.UTC(2025, 0, 1, 12, 0, 0, sequence)).toISOString();
  const status = overrides.status ?? 'queued';
  const id = overrides.id ?? `0190a7e2-0000-7000-8000-${String(sequence).padStart(12, '0')}`;
  return {
    id,
    originalFilename: `photo-${sequence}.jpg`,
    fileType: 'image',
    mimeType: 'image/jpeg',
    fileSize: 1024 * sequence,
    status,
    errorMessage: status === 'failed' ? 'Could not decode the image.' : null,
    errorCode: status === 'failed' ? 'undecodable' : null,
    retryable: false,
    thumbnailUrl: status === 'completed' ? `/api/thumbnails/${id}.jpg?exp=1&sig=s` : null,
    downloadUrl: status === 'completed' ? `/api/download/${id}.jpg?exp=1&sig=d` : null,
    ...NO_RENDITIONS,
    createdAt,
    updatedAt: createdAt,
    completedAt: status === 'completed' || status === 'failed' ? createdAt : null,
    ...overrides,
  };
}

/** The rendition fields of a job no worker has made renditions for yet. */
const NO_RENDITIONS = {
  thumbnail2xUrl: null,
  previewUrl: null,
  animatedPreviewUrl: null,
  thumbhash: null,
  width: null,
  height: null,
  durationMs: null,
  contentHash: null,
  position: 'centre',
  deletedAt: null,
} as const satisfies Partial<JobView>;

export function aPage(items: JobView[], nextCursor: string | null = null): JobPage {
  return { items, nextCursor };
}

export function anEvent(job: JobView, status: JobStatus, timestamp: number, extra: Partial<JobStatusEvent> = {}): JobStatusEvent {
  const event: JobStatusEvent = { jobId: job.id, userId: 'user-1', status, timestamp, ...extra };
  if (status === 'completed') {
    event.thumbnailUrl ??= `/api/thumbnails/${job.id}.jpg?exp=2&sig=t`;
    event.downloadUrl ??= `/api/download/${job.id}.jpg?exp=2&sig=d`;
  }
  return event;
}

// ---- fast-check arbitraries -------------------------------------------------------------

export const statusArb: fc.Arbitrary<JobStatus> = fc.constantFrom(...JOB_STATUSES);

/** Text a person could have typed: any characters, never blank. */
export const textArb = (maxLength: number): fc.Arbitrary<string> =>
  fc.string({ unit: 'grapheme', minLength: 1, maxLength }).filter((text) => text.trim() !== '');

const filenameArb = fc
  .tuple(textArb(40), fc.constantFrom('.jpg', '.png', '.gif', '.webp', '.mp4', '.mov', '.avi', '.webm'))
  .map(([stem, extension]) => `${stem.trim()}${extension}`);

const EPOCH_2024 = Date.UTC(2024, 0, 1);
const EPOCH_2030 = Date.UTC(2030, 0, 1);

/** Any job the API could send, its fields consistent with its status. */
export function jobArb(status: fc.Arbitrary<JobStatus> = statusArb): fc.Arbitrary<JobView> {
  return fc
    .record({
      id: fc.uuid(),
      originalFilename: filenameArb,
      video: fc.boolean(),
      fileSize: fc.integer({ min: 1, max: 100 * 1024 * 1024 }),
      status,
      errorMessage: textArb(200),
      createdAt: fc.integer({ min: EPOCH_2024, max: EPOCH_2030 }),
      age: fc.integer({ min: 0, max: 3_600_000 }),
    })
    .map(({ id, originalFilename, video, fileSize, status: jobStatus, errorMessage, createdAt, age }): JobView => {
      const created = new Date(createdAt).toISOString();
      const updated = new Date(createdAt + age).toISOString();
      const completed = jobStatus === 'completed';
      return {
        id,
        originalFilename,
        fileType: video ? 'video' : 'image',
        mimeType: video ? 'video/mp4' : 'image/jpeg',
        fileSize,
        status: jobStatus,
        errorMessage: jobStatus === 'failed' ? errorMessage : null,
        errorCode: jobStatus === 'failed' ? 'internal' : null,
        retryable: jobStatus === 'failed',
        thumbnailUrl: completed ? `/api/thumbnails/${id}.jpg?exp=99&sig=${age}` : null,
        downloadUrl: completed ? `/api/download/${id}.jpg?exp=99&sig=${age}` : null,
        ...NO_RENDITIONS,
        createdAt: created,
        updatedAt: updated,
        completedAt: jobStatus === 'completed' || jobStatus === 'failed' ? updated : null,
      };
    });
}

/** Jobs with distinct ids. */
export function jobListArb(maxLength: number): fc.Arbitrary<JobView[]> {
  return fc.uniqueArray(jobArb(), { maxLength, selector: (job) => job.id });
}
