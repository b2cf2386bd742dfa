import { Injectable, Logger } from '@nestjs/common';
import { AppConfig, isId } from '@app/core';
import { formatBytes } from '@app/shared';
import { ListedObject, StorageDriver, StorageKeys } from '@app/storage';
import { JobsRepository } from '../jobs.repository';

/** Job ids looked up in the database at once. */
const BATCH = 500;

/**
 * Crashes leave a handful of files at a time. Up to this many orphans are always removed; more
 * than this many and more than MAX_ORPHAN_SHARE of the old files are not crash leftovers but a
 * storage and a database that do not belong together (a wrong DATABASE_URL or STORAGE_URL, a
 * database restored from an older backup): then nothing is deleted, and the warning says so.
 */
const MAX_QUIET = 20;
const MAX_ORPHAN_SHARE = 0.01;
/** Orphans held in memory at most: past this many the sweep refuses without looking further. */
const MAX_ORPHANS = 10_000;

/** The folders whose objects each belong to one job (StorageKeys). */
const PREFIXES = ['uploads/', 'processed/'] as const;

export interface OrphanSweepReport {
  /** Objects listed. */
  examined: number;
  /** Objects deleted, and their bytes. */
  removed: number;
  bytes: number;
  /** Why the sweep deleted nothing although it found orphans, when it did. */
  refused?: string;
}

/**
 * Deletes stored files that belong to no job: an original stored by an api killed before it
 * recorded the job, renditions of a job deleted while a worker killed before it noticed was
 * making them, files of a job whose row was deleted by a process killed before it deleted them.
 * The database is the truth: a file is an orphan when the job id of its key (a uuid, as the
 * service makes them) is not a job, in the library or the trash, and it is older than
 * ORPHAN_MIN_AGE (a file of an upload request still running has no job yet).
 *
 * The whole storage is listed and judged before anything is deleted: when no old file belongs
 * to a job, or orphans are more than crashes leave (MAX_QUIET, MAX_ORPHAN_SHARE), nothing is
 * deleted and a warning says why, at every turn until a person has looked. Run by the workers
 * every ORPHAN_SWEEP_INTERVAL.
 */
@Injectable()
export class OrphanSweep {
  private readonly logger = new Logger(OrphanSweep.name);
  private readonly minAgeMs: number;

  constructor(
    private readonly storage: StorageDriver,
    private readonly jobs: JobsRepository,
    config: AppConfig,
  ) {
    this.minAgeMs = config.library.orphanMinAgeSeconds * 1000;
  }

  /** One pass over the storage; `signal` stops it between two files (what was deleted stays deleted). */
  async sweep(signal?: AbortSignal, now = new Date()): Promise<OrphanSweepReport> {
    const report: OrphanSweepReport = { examined: 0, removed: 0, bytes: 0 };
    const cutoff = now.getTime() - this.minAgeMs;
    const orphans: ListedObject[] = [];
    let old = 0;
    let known = 0;
    let batch = new Map<string, ListedObject[]>();
    const settle = async () => {
      const existing = await this.jobs.existingIds([...batch.keys()]);
      for (const [jobId, objects] of batch) {
        if (existing.has(jobId)) known += objects.length;
        else orphans.push(...objects);
      }
      batch = new Map();
    };
    for await (const object of this.stored()) {
      if (signal?.aborted) return report;
      report.examined += 1;
      const jobId = StorageKeys.jobIdOf(object.key);
      // Not a key the service makes, or not known to be old (S3 without LastModified): left alone.
      if (!jobId || !isId(jobId) || !(object.modifiedAt.getTime() <= cutoff)) continue;
      old += 1;
      const objects = batch.get(jobId);
      if (objects) objects.push(object);
      else batch.set(jobId, [object]);
      if (batch.size >= BATCH) await settle();
      if (orphans.length > MAX_ORPHANS) break;
    }
    if (batch.size > 0) await settle();
    if (orphans.length === 0) return report;

    const age = formatAge(this.minAgeMs);
    if (known === 0) {
      report.refused = `none of the ${old} stored files older than ${age} belongs to a job in the database`;
    } else if (orphans.length > MAX_ORPHANS) {
      report.refused = `more than ${MAX_ORPHANS} stored files older than ${age} belong to no job in the database`;
    } else if (orphans.length > MAX_QUIET && orphans.length > old * MAX_ORPHAN_SHARE) {
      report.refused = `${orphans.length} of ${old} stored files older than ${age} belong to no job in the database`;
    }
    if (report.refused) {
      this.logger.warn(
        `Orphan sweep: ${report.refused}, more than crashes leave. Check that DATABASE_URL and STORAGE_URL belong ` +
          'together (a database restored from an older backup does this too). Nothing was deleted; the sweep says so at every turn.',
      );
      return report;
    }
    for (const orphan of orphans) {
      if (signal?.aborted) break;
      await this.storage.delete(orphan.key);
      report.removed += 1;
      report.bytes += orphan.size;
    }
    this.logger.log(`Removed ${report.removed} stored file(s) (${formatBytes(report.bytes)}) that belonged to no job`);
    return report;
  }

  /** Every object of the folders that hold jobs' files. */
  private async *stored(): AsyncIterable<ListedObject> {
    for (const prefix of PREFIXES) yield* this.storage.list(prefix);
  }
}

function formatAge(ms: number): string {
  const hours = ms / 3_600_000;
  return Number.isInteger(hours) ? `${hours} h` : `${Math.round(ms / 60_000)} min`;
}
