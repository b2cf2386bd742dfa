import type { JobView } from '@app/shared';
import type { JobStats } from './jobs-api.service';

/** Where a job counts: in the library (by its status and type) or in the trash; null: nowhere. */
export type CountedAs = { readonly job: Pick<JobView, 'status' | 'fileType' | 'fileSize'>; readonly trashed: boolean } | null;

/** Where a job held counts now. */
export function countedAs(job: JobView): CountedAs {
  return { job, trashed: job.deletedAt !== null };
}

/**
 * The counts with one job moved from `before` to `after` (a status change, a delete, a restore, an
 * upload): what the screen shows at once, until the server's counts are read again. Bytes follow
 * the original, which the trash keeps.
 */
export function moveCount(stats: JobStats, before: CountedAs, after: CountedAs): JobStats {
  const next: JobStats = { ...stats, byStatus: { ...stats.byStatus }, byType: { ...stats.byType } };
  const add = (place: CountedAs, sign: 1 | -1): void => {
    if (!place) return;
    if (place.trashed) {
      next.trashed = Math.max(0, next.trashed + sign);
      return;
    }
    next.total = Math.max(0, next.total + sign);
    next.byStatus[place.job.status] = Math.max(0, (next.byStatus[place.job.status] ?? 0) + sign);
    next.byType[place.job.fileType] = Math.max(0, (next.byType[place.job.fileType] ?? 0) + sign);
  };
  add(before, -1);
  add(after, 1);
  if (before === null && after !== null) next.bytes += after.job.fileSize;
  if (before !== null && after === null) next.bytes = Math.max(0, next.bytes - before.job.fileSize);
  return next;
}
