import { Injectable } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { AppConfig, newId } from '@app/core';
import { type AcceptedMedia, formatBytes, type Rejected, type ThumbnailPosition } from '@app/shared';
import { ByteLimit, ObjectTooLargeError, StorageDriver, StorageKeys } from '@app/storage';
import { JobsRepository } from '../jobs.repository';
import { classifyUpload, sanitiseFilename, SNIFF_BYTES } from '../media/detect-media';

/** An uploaded file that passed the checks and is now in storage, waiting for its job record. */
export interface StoredUpload {
  jobId: string;
  originalFilename: string;
  media: AcceptedMedia;
  size: number;
  key: string;
  /** SHA-256 (hex) of the original, computed while it streamed in. */
  contentHash?: string;
  /** Crop of the square renditions the upload asked for (default `centre`). */
  position?: ThumbnailPosition;
}

export type IntakeResult = { stored: StoredUpload } | { rejected: Rejected };

/** Who uploads, for USER_QUOTA_BYTES. */
export interface IntakeOptions {
  userId?: string;
  /** Bytes of this user's files already accepted in the same request (not yet recorded as jobs). */
  pendingBytes?: number;
}

/**
 * Takes one uploaded file as a stream: sniffs its first bytes, checks them against the name and
 * declared type, and streams an accepted file straight into storage under a generated key, never
 * holding it whole in memory. A rejected or oversized file is read to its end and dropped, so the
 * other files of the same request still arrive.
 */
@Injectable()
export class UploadIntake {
  constructor(
    private readonly storage: StorageDriver,
    private readonly config: AppConfig,
    private readonly jobs: JobsRepository,
  ) {}

  async receive(source: Readable, clientFilename: string, declaredType: string, options: IntakeOptions = {}): Promise<IntakeResult> {
    // Made before anything is awaited: ids follow the files' arrival, and with one createdAt for a
    // request they are its order in lists (a short file's checks can finish before a longer one's).
    const jobId = newId();
    const originalFilename = sanitiseFilename(clientFilename);
    const maxFileBytes = this.config.upload.maxFileBytes;
    const { head, ended } = await peek(source, SNIFF_BYTES);
    const classification = await classifyUpload({
      head,
      filename: originalFilename,
      declaredType,
      // The size is only known for files shorter than the sniff window; enough to spot empty ones.
      size: ended ? head.length : head.length + 1,
    });
    if (!classification.accepted) {
      drain(source);
      return { rejected: { originalFilename, code: classification.code, message: classification.message } };
    }

    // USER_QUOTA_BYTES: the file may take what is left of it (a file ending exactly at the quota is accepted).
    const quota = this.config.upload.userQuotaBytes;
    const used = quota > 0 && options.userId ? (await this.jobs.originalBytes(options.userId)) + (options.pendingBytes ?? 0) : 0;
    const left = quota > 0 && options.userId ? Math.max(0, quota - used) : Infinity;
    const quotaExceeded = (): IntakeResult => ({
      rejected: {
        originalFilename,
        code: 'quota_exceeded',
        message:
          `“${originalFilename}” does not fit in your storage quota: ${formatBytes(used)} of ${formatBytes(quota)} used, ` +
          `${formatBytes(left)} left${ended ? ` and the file is ${formatBytes(head.length)}` : ''}. Delete some files first.`,
      },
    });
    if (left === 0 || (ended && head.length > left)) {
      drain(source);
      return quotaExceeded();
    }
    const maxBytes = Math.min(maxFileBytes, left);

    const key = StorageKeys.original(jobId);
    const limit = new ByteLimit(maxBytes);
    // The storage driver's pipeline reports errors; this keeps one raised before it attaches from crashing.
    limit.on('error', () => undefined);
    // SHA-256 of the original as it streams by (duplicate detection): no second read of the file.
    const hash = createHash('sha256').update(head);
    limit.write(head);
    if (ended) limit.end();
    else {
      source.on('data', (chunk: Buffer) => hash.update(chunk));
      source.pipe(limit);
    }
    source.once('error', (error) => limit.destroy(error));
    try {
      const stored = await this.storage.put(key, limit, { contentType: classification.media.mimeType });
      return { stored: { jobId, originalFilename, media: classification.media, size: stored.size, key, contentHash: hash.digest('hex') } };
    } catch (error) {
      source.unpipe(limit);
      drain(source);
      await this.storage.delete(key).catch(() => undefined);
      if (error instanceof ObjectTooLargeError) {
        if (maxBytes < maxFileBytes) return quotaExceeded();
        return {
          rejected: {
            originalFilename,
            code: 'too_large',
            message: `“${originalFilename}” is larger than the ${formatBytes(maxFileBytes)} limit per file.`,
          },
        };
      }
      throw error;
    }
  }
}

/** Reads at least `bytes` (or to the end) without losing them: they are replayed by the caller. */
function peek(source: Readable, bytes: number): Promise<{ head: Buffer; ended: boolean }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    const finish = (ended: boolean) => {
      source.off('data', onData);
      source.off('end', onEnd);
      source.off('error', onError);
      if (!ended) source.pause();
      resolve({ head: Buffer.concat(chunks), ended });
    };
    const onData = (chunk: Buffer) => {
      chunks.push(chunk);
      total += chunk.length;
      if (total >= bytes) finish(false);
    };
    const onEnd = () => finish(true);
    const onError = (error: Error) => {
      source.off('data', onData);
      source.off('end', onEnd);
      reject(error);
    };
    source.on('data', onData);
    source.once('end', onEnd);
    source.once('error', onError);
  });
}

/** Consumes the rest of a stream we do not want, so the multipart parser moves on to the next file. */
function drain(source: Readable): void {
  if (!source.readableEnded) {
    source.on('data', () => undefined);
    source.resume();
  }
}
