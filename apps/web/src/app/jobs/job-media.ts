import type { JobView } from '@app/shared';

/** A job as the server sends it; `originalUrl` (the original streamed back) comes with issue 12's renditions. */
export type JobWithMedia = JobView & { originalUrl?: string | null };

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

/** What the app shows of a job (renditions only once it is completed; nonsense sizes dropped). */
export function jobMedia(job: JobView): JobMedia {
  const completed = job.status === 'completed';
  return {
    thumbnailUrl: completed ? job.thumbnailUrl : null,
    thumbnail2xUrl: completed ? job.thumbnail2xUrl : null,
    previewUrl: completed ? job.previewUrl : null,
    animatedPreviewUrl: completed ? job.animatedPreviewUrl : null,
    originalUrl: (job as JobWithMedia).originalUrl || null,
    thumbhash: job.thumbhash,
    width: positive(job.width),
    height: positive(job.height),
    durationMs: positive(job.durationMs),
    deletedAt: job.deletedAt,
    errorCode: job.errorCode,
    // A server older than the field sends none: every failure could be retried then.
    retryable: (job as Partial<JobView>).retryable ?? true,
  };
}

/** The job came with renditions beyond the thumbnail (the server makes them). */
export function hasRenditions(job: JobView): boolean {
  const media = job as Partial<JobView>;
  return !!(media.thumbnail2xUrl || media.previewUrl || media.thumbhash);
}

/** Whether a failed job can be queued again with any hope of success. */
export function canRetry(job: JobView): boolean {
  return job.status === 'failed' && jobMedia(job).retryable;
}

const ADVICE: Readonly<Record<string, string>> = {
  undecodable: 'Retrying will not help: upload the complete file again (this one may be damaged, or not what its name says).',
  truncated: 'Retrying will not help: upload the complete file again (this one stops before its end).',
  unsupported_codec: 'Retrying will not help: this server cannot decode the video. Convert it (e.g. to H.264) and upload it again.',
  missing_original: 'Retrying will not help: the uploaded file is gone from storage. Upload it again.',
  no_video_stream: 'Retrying will not help: this file has no picture to take a frame from. Upload a different file.',
  too_many_pixels: 'Retrying will not help: the picture is larger than this server accepts. Upload a smaller version.',
  infected: 'Retrying will not help: the virus scanner found malware in this file, and it was deleted.',
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
