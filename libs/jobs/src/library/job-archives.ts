import { Injectable, Logger } from '@nestjs/common';
import archiver from 'archiver';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { AppConfig, isId, RedisConnections } from '@app/core';
import { ObjectNotFoundError, StorageDriver } from '@app/storage';
import type { Job } from '../job';
import { JobsRepository } from '../jobs.repository';

export const ARCHIVE_CONTENTS = ['thumbnails', 'originals'] as const;
export type ArchiveContent = (typeof ARCHIVE_CONTENTS)[number];
/** Most jobs one archive may hold. */
export const MAX_ARCHIVE_IDS = 1000;

/** What an archive URL stands for, kept in Redis until it expires. */
export interface ArchiveRequest {
  id: string;
  userId: string;
  content: ArchiveContent;
  jobIds: string[];
}

const ARCHIVE_ID = /^[A-Za-z0-9_-]{22}$/;

/**
 * Zip archives of many jobs' thumbnails or originals. `create` records which jobs (the owner's
 * only) under a random id in Redis, shared by every api instance, for as long as its signed URL
 * lives; `write` streams the zip to a response, one file at a time (one open file, whatever the
 * count), stored without compression (JPEG, video and the rest are compressed already). Entries
 * are named after the originals, made safe (no folders, no `..`, no control characters) and
 * de-duplicated: `a.jpg`, `a (2).jpg`.
 */
@Injectable()
export class JobArchives {
  private readonly logger = new Logger(JobArchives.name);

  constructor(
    private readonly jobs: JobsRepository,
    private readonly storage: StorageDriver,
    private readonly redis: RedisConnections,
    private readonly config: AppConfig,
  ) {}

  /** Records an archive of the user's jobs among `ids` (others' and missing ones are left out) for `ttlMs`. */
  async create(userId: string, ids: readonly string[], content: ArchiveContent, ttlMs: number): Promise<ArchiveRequest> {
    const wanted = [...new Set(ids)].filter(isId);
    const owned = new Set((await this.jobs.findOwnedMany(userId, wanted)).map((job) => job.id));
    const request: ArchiveRequest = {
      id: randomBytes(16).toString('base64url'),
      userId,
      content,
      jobIds: wanted.filter((id) => owned.has(id)),
    };
    await this.redis.get('commands').set(this.key(request.id), JSON.stringify(request), 'PX', Math.max(1000, Math.ceil(ttlMs)));
    return request;
  }

  /** The archive recorded under `id`, or null (unknown, expired or malformed). */
  async find(id: string): Promise<ArchiveRequest | null> {
    if (!ARCHIVE_ID.test(id)) return null;
    const stored = await this.redis.get('commands').get(this.key(id));
    return stored ? (JSON.parse(stored) as ArchiveRequest) : null;
  }

  /**
   * Streams the zip into `output`: the owner's jobs as they are now (a job deleted since is left
   * out; thumbnails of jobs without one are too), in the order they were asked for.
   */
  async write(request: ArchiveRequest, output: Writable): Promise<void> {
    const byId = new Map((await this.jobs.findOwnedMany(request.userId, request.jobIds)).map((job) => [job.id, job]));
    const zip = archiver('zip', { store: true });
    // Settles (rejects) when the zip fails or the download is closed before the zip is complete.
    const stopped = new Promise<never>((_, reject) => {
      zip.once('error', reject);
      // 'close' also follows a complete response, and may come before finalize() settles.
      output.once('close', () => {
        if (!output.writableFinished) reject(new Error('The download was closed before the archive was complete'));
      });
    });
    stopped.catch(() => undefined);
    zip.pipe(output);
    const names = new EntryNames();
    try {
      for (const id of request.jobIds) {
        const job = byId.get(id);
        const key = job && this.keyOf(job, request.content);
        if (!job || !key) continue;
        let body;
        try {
          body = await this.storage.read(key);
        } catch (error) {
          if (error instanceof ObjectNotFoundError) continue;
          throw error;
        }
        zip.append(body, { name: names.next(entryName(job.originalFilename, request.content)), date: job.createdAt });
        await Promise.race([once(zip, 'entry'), stopped]);
      }
      await Promise.race([zip.finalize(), stopped]);
      if (!output.writableFinished) await Promise.race([once(output, 'finish'), stopped]);
    } catch (error) {
      zip.abort();
      this.logger.warn(`Archive ${request.id} of user ${request.userId} stopped: ${(error as Error).message}`);
      throw error;
    }
  }

  private keyOf(job: Job, content: ArchiveContent): string | null {
    if (content === 'originals') return job.originalKey;
    return job.status === 'completed' ? job.thumbnailKey : null;
  }

  private key(id: string): string {
    return `${this.config.redis.prefix}:archive:${id}`;
  }
}

/** The entry name for a job's original name: its last path segment, made safe; thumbnails take `.jpg`. */
export function entryName(originalFilename: string, content: ArchiveContent): string {
  const base =
    (originalFilename.split(/[\\/]/).pop() ?? '')
      // eslint-disable-next-line no-control-regex -- control characters are exactly what is removed
      .replace(/[\u0000-\u001f\u007f]/g, '')
      .replace(/[<>:"|?*]/g, '_')
      .replace(/^[.\s]+/, '')
      .trim()
      // Code points, not UTF-16 units: a cut between two halves of a surrogate pair is not UTF-8.
      .match(/^[\s\S]{0,200}/u)![0] || 'file';
  if (content === 'originals') return base;
  const dot = base.lastIndexOf('.');
  return `${dot > 0 ? base.slice(0, dot) : base}.jpg`;
}

/** Hands out each name once, case-insensitively (as Windows and macOS compare them): `a.jpg`, `a (2).jpg`, `a (3).jpg`. */
export class EntryNames {
  private readonly taken = new Set<string>();

  next(name: string): string {
    const dot = name.lastIndexOf('.');
    const [stem, ext] = dot > 0 ? [name.slice(0, dot), name.slice(dot)] : [name, ''];
    let candidate = name;
    for (let n = 2; this.taken.has(candidate.toLowerCase()); n += 1) candidate = `${stem} (${n})${ext}`;
    this.taken.add(candidate.toLowerCase());
    return candidate;
  }
}
