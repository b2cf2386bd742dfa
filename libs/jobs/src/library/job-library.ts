import { Injectable } from '@nestjs/common';
import { AppConfig, isId } from '@app/core';
import { FILE_TYPES, JOB_STATUSES, type FileType, type JobStatus } from '@app/shared';
import type { Job } from '../job';
import { JobsRepository } from '../jobs.repository';
import { JobLifecycle } from '../lifecycle/job-lifecycle';

/** `GET /api/jobs/stats`: the library (trash apart) counted, and the bytes kept. */
export interface LibraryStats {
  /** Jobs in the library (not in the trash). */
  total: number;
  byStatus: Record<JobStatus, number>;
  byType: Record<FileType, number>;
  /** Bytes of originals kept, the trash's included (its files are kept until the purge). */
  bytes: number;
  /** USER_QUOTA_BYTES, or null when there is none. */
  quotaBytes: number | null;
  /** Jobs in the trash. */
  trashed: number;
}

export const BULK_ACTIONS = ['delete', 'retry', 'restore'] as const;
export type BulkAction = (typeof BULK_ACTIONS)[number];
/** Most ids one bulk request may name. */
export const MAX_BULK_IDS = 500;

/**
 * Why an id of a bulk request was not acted on: `not_found` (no such job, or someone else's: the
 * same answer, as everywhere), `not_failed` (only failed jobs are retried), `changed` (it moved
 * meanwhile; read it again).
 */
export type BulkSkipReason = 'not_found' | 'not_failed' | 'changed';

export interface BulkResult {
  /** Ids now as asked (a job already in the trash counts as deleted, one not in it as restored), in the order given. */
  done: string[];
  skipped: { id: string; reason: BulkSkipReason }[];
}

/** The library as a whole: its counts, and actions on many jobs at once. */
@Injectable()
export class JobLibrary {
  constructor(
    private readonly jobs: JobsRepository,
    private readonly lifecycle: JobLifecycle,
    private readonly config: AppConfig,
  ) {}

  async stats(userId: string): Promise<LibraryStats> {
    const stats: LibraryStats = {
      total: 0,
      byStatus: Object.fromEntries(JOB_STATUSES.map((status) => [status, 0])) as Record<JobStatus, number>,
      byType: Object.fromEntries(FILE_TYPES.map((type) => [type, 0])) as Record<FileType, number>,
      bytes: 0,
      quotaBytes: this.config.library.userQuotaBytes,
      trashed: 0,
    };
    for (const row of await this.jobs.libraryCounts(userId)) {
      stats.bytes += row.bytes;
      if (row.trashed) {
        stats.trashed += row.count;
        continue;
      }
      stats.total += row.count;
      stats.byStatus[row.status] += row.count;
      stats.byType[row.fileType] += row.count;
    }
    return stats;
  }

  /**
   * One action on up to MAX_BULK_IDS of the user's jobs: `delete` moves them to the trash,
   * `restore` takes them out, `retry` queues the failed ones again (behind the user's waiting
   * jobs, in the order given). Each id is acted on or skipped with a reason; nothing fails as a whole.
   */
  async bulk(userId: string, action: BulkAction, ids: readonly string[], requestId: string | null): Promise<BulkResult> {
    const unique = [...new Set(ids)];
    const owned = new Map((await this.jobs.findOwnedMany(userId, unique.filter(isId))).map((job) => [job.id, job]));
    const skipped: BulkResult['skipped'] = unique.filter((id) => !owned.has(id)).map((id) => ({ id, reason: 'not_found' }));
    const found = unique.filter((id) => owned.has(id));
    if (action === 'delete') {
      await this.jobs.trash(
        userId,
        found.filter((id) => owned.get(id)!.deletedAt === null),
        new Date(),
      );
      return { done: found, skipped };
    }
    if (action === 'restore') {
      await this.jobs.restore(
        userId,
        found.filter((id) => owned.get(id)!.deletedAt !== null),
      );
      return { done: found, skipped };
    }
    const done: string[] = [];
    for (const id of found) {
      const job: Job = owned.get(id)!;
      if (job.status !== 'failed') skipped.push({ id, reason: 'not_failed' });
      else if (await this.lifecycle.retry(job, requestId)) done.push(id);
      else skipped.push({ id, reason: 'changed' });
    }
    return { done, skipped };
  }
}
