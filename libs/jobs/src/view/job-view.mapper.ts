import { Injectable } from '@nestjs/common';
import { SignedResource, UrlSigner } from '@app/auth';
import type { JobStatusMessage } from '../events/job-events';
import type { Job } from '../job';
import { isRetryable, JobStatusEvent, JobView } from '@app/shared';
import { filePath, keyOf } from './file-routes';

/** Maps stored jobs to the views clients see, with signed URLs for the finished renditions and the original. */
@Injectable()
export class JobViewMapper {
  constructor(private readonly signer: UrlSigner) {}

  /** The view this server sends: every field of the contract, `originalUrl` included. */
  toView(job: Job): JobView & { originalUrl: string } {
    const ready = job.status === 'completed' && job.thumbnailKey !== null;
    // A rendition's URL only once the job is completed with that rendition stored.
    const rendition = (resource: 'thumbnail2x' | 'preview' | 'animatedPreview') =>
      job.status === 'completed' && keyOf(job, resource) !== null ? this.url(resource, job.id, job.userId) : null;
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
      thumbnail2xUrl: rendition('thumbnail2x'),
      previewUrl: rendition('preview'),
      animatedPreviewUrl: rendition('animatedPreview'),
      originalUrl: this.url('original', job.id, job.userId),
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

  private url(resource: SignedResource, jobId: string, ownerId: string): string {
    const { exp, sig } = this.signer.sign(resource, jobId, ownerId);
    return `${filePath(resource, jobId)}?exp=${exp}&sig=${sig}`;
  }
}
