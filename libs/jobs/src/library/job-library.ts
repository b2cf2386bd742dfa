import { Injectable } from '@nestjs/common';
import { AppConfig } from '@app/core';
import { FILE_TYPES, JOB_STATUSES, type FileType, type JobStatus } from '@app/shared';
import { JobsRepository } from '../jobs.repository';

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

/** The library as a whole: its counts. */
@Injectable()
export class JobLibrary {
  constructor(
    private readonly jobs: JobsRepository,
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
}
