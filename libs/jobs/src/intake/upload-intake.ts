import { Injectable } from '@nestjs/common';
import { Readable } from 'node:stream';
import { AppConfig, newId } from '@app/core';
import type { AcceptedMedia, Rejected, ThumbnailPosition } from '@app/shared';
import { ByteLimit, ObjectTooLargeError, StorageDriver, StorageKeys } from '@app/storage';
import { classifyUpload, sanitiseFilename, SNIFF_BYTES } from '../media/detect-media';

/** An uploaded file that passed the checks and is now in storage, waiting for its job record. */
export interface StoredUpload {
  jobId: string;
  originalFilename: string;
  media: AcceptedMedia;
  size: number;
  key: string;
  /** Crop of the square renditions the upload asked for (default `centre`). */
  position?: ThumbnailPosition;
}

export type IntakeResult = { stored: StoredUpload } | { rejected: Rejected };

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
  ) {}

  async receive(source: Readable, clientFilename: string, declaredType: string): Promise<IntakeResult> {
    const originalFilename = sanitiseFilename(clientFilename);
    const maxBytes = this.config.upload.maxFileBytes;
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

    const jobId = newId();
    const key = StorageKeys.original(jobId);
    const limit = new ByteLimit(maxBytes);
    // The storage driver's pipeline reports errors; this keeps one raised before it attaches from crashing.
    limit.on('error', () => undefined);
    limit.write(head);
    if (ended) limit.end();
    else source.pipe(limit);
    source.once('error', (error) => limit.destroy(error));
    try {
      const stored = await this.storage.put(key, limit, { contentType: classification.media.mimeType });
      return { stored: { jobId, originalFilename, media: classification.media, size: stored.size, key } };
    } catch (error) {
      source.unpipe(limit);
      drain(source);
      await this.storage.delete(key).catch(() => undefined);
      if (error instanceof ObjectTooLargeError) {
        return {
          rejected: {
            originalFilename,
            code: 'too_large',
            message: `“${originalFilename}” is larger than the ${formatBytes(maxBytes)} limit per file.`,
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

export function formatBytes(bytes: number): string {
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${unit === 0 ? value : +value.toFixed(1)} ${units[unit]}`;
}
