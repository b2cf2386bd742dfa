import type { JobView } from '@app/shared';

/**
 * The contract's Job fields that `JobView` in libs/shared does not carry yet (renditions, media
 * facts, trash, failure kind). A server that has them sends them; one that does not, does not.
 */
export interface JobMediaFields {
  thumbnail2xUrl: string | null;
  previewUrl: string | null;
  animatedPreviewUrl: string | null;
  originalUrl: string;
  thumbhash: string | null;
  width: number | null;
  height: number | null;
  durationMs: number | null;
  contentHash: string;
  position: 'centre' | 'attention' | 'entropy';
  deletedAt: string | null;
  errorCode: string | null;
  retryable: boolean;
}

/** A job as a server of any version sends it. */
export type JobWithMedia = JobView & Partial<JobMediaFields>;

/** What the app shows of a job's media, with every field a server may not send yet made explicit. */
export interface JobMedia {
  readonly thumbnailUrl: string | null;
  readonly thumbnail2xUrl: string | null;
  readonly previewUrl: string | null;
  readonly animatedPreviewUrl: string | null;
  readonly originalUrl: string | null;
  readonly thumbhash: string | null;
  readonly width: number | null;
  readonly height: number | null;
  readonly durationMs: number | null;
  readonly deletedAt: string | null;
  readonly errorCode: string | null;
  /** A retry can help (servers without the field: every failure). */
  readonly retryable: boolean;
}

/** The adapter: a job from any server version as {@link JobMedia}. */
export function jobMedia(job: JobView): JobMedia {
  const media = job as JobWithMedia;
  const completed = job.status === 'completed';
  return {
    thumbnailUrl: completed ? job.thumbnailUrl : null,
    thumbnail2xUrl: completed ? (media.thumbnail2xUrl ?? null) : null,
    previewUrl: completed ? (media.previewUrl ?? null) : null,
    animatedPreviewUrl: completed ? (media.animatedPreviewUrl ?? null) : null,
    originalUrl: media.originalUrl || null,
    thumbhash: media.thumbhash ?? null,
    width: positive(media.width),
    height: positive(media.height),
    durationMs: positive(media.durationMs),
    deletedAt: media.deletedAt ?? null,
    errorCode: media.errorCode ?? null,
    retryable: media.retryable ?? true,
  };
}

/** The server sends the fields of the current contract (renditions, `retryable`): its events lack them. */
export function hasContractFields(job: JobView): boolean {
  return 'retryable' in job || 'thumbnail2xUrl' in job;
}

/** Whether a failed job can be queued again with any hope of success. */
export function canRetry(job: JobView): boolean {
  return job.status === 'failed' && jobMedia(job).retryable;
}

const ADVICE: Readonly<Record<string, string>> = {
  undecodable: 'Retrying will not help: upload the complete file again (this one may be cut short or damaged).',
  no_video_stream: 'Retrying will not help: this file has no picture to take a frame from. Upload a different file.',
  too_many_pixels: 'Retrying will not help: the picture is larger than this server accepts. Upload a smaller version.',
};

/** What to do about a failure that a retry cannot fix; null when a retry can help. */
export function failureAdvice(job: JobView): string | null {
  if (canRetry(job) || job.status !== 'failed') return null;
  const code = jobMedia(job).errorCode;
  return (code && ADVICE[code]) || 'Retrying will not help: upload the complete file again.';
}

function positive(value: number | null | undefined): number | null {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : null;
}

/** `srcset` of a thumbnail with its 2× rendition for high-density screens; null without one. */
export function thumbnailSrcset(media: JobMedia): string | null {
  return media.thumbnailUrl && media.thumbnail2xUrl ? `${media.thumbnailUrl} 1x, ${media.thumbnail2xUrl} 2x` : null;
}
