import { Injectable } from '@nestjs/common';
import { SignedResource, UrlSigner } from '@app/auth';
import type { JobStatusMessage } from '../events/job-events';
import type { Job } from '../job';
import { isRetryable, JobStatusEvent, JobView } from '@app/shared';

const ROUTES: Record<SignedResource, string> = { thumbnail: '/api/thumbnails', download: '/api/download' };

/** Maps stored jobs to the views clients see, with signed URLs for finished thumbnails. */
@Injectable()
export class JobViewMapper {
  constructor(private readonly signer: UrlSigner) {}

  toView(job: Job): JobView {
    const ready = job.status === 'completed' && job.thumbnailKey !== null;
    return {
      id: job.id,
      originalFilename: job.originalFilename,
      fileType: job.fileType,
      mimeType: job.mimeType,
      fileSize: job.fileSize,
      status: job.status,
      errorMessage: job.errorMessage,
      errorCode: job.errorCode,
      retryable: isRetryable(job.status, job.errorCode),
      thumbnailUrl: ready ? this.url('thumbnail', job.id, job.userId) : null,
      downloadUrl: ready ? this.url('download', job.id, job.userId) : null,
      // No worker makes these renditions yet; their routes come with them.
      thumbnail2xUrl: null,
      previewUrl: null,
      animatedPreviewUrl: null,
      thumbhash: job.thumbhash,
      width: job.width,
      height: job.height,
      durationMs: job.durationMs,
      contentHash: job.contentHash,
      position: job.position,
      createdAt: job.createdAt.toISOString(),
      updatedAt: job.updatedAt.toISOString(),
      completedAt: job.completedAt?.toISOString() ?? null,
      deletedAt: job.deletedAt?.toISOString() ?? null,
    };
  }

  toEvent(message: JobStatusMessage): JobStatusEvent {
    if (message.status !== 'completed') return message;
    return {
      ...message,
      thumbnailUrl: this.url('thumbnail', message.jobId, message.userId),
      downloadUrl: this.url('download', message.jobId, message.userId),
    };
  }

  /** File name of a job's thumbnail in the thumbnail and download routes. */
  static fileName(jobId: string): string {
    return `${jobId}.jpg`;
  }

  private url(resource: SignedResource, jobId: string, ownerId: string): string {
    const { exp, sig } = this.signer.sign(resource, jobId, ownerId);
    return `${ROUTES[resource]}/${JobViewMapper.fileName(jobId)}?exp=${exp}&sig=${sig}`;
  }
}
