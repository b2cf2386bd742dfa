import { Injectable, Logger } from '@nestjs/common';
import { AppConfig } from '@app/core';
import { formatBytes } from '@app/shared';
import { ListedObject, StorageDriver, StorageKeys } from '@app/storage';
import { JobsRepository } from '../jobs.repository';

/** Job ids looked up in the database at once. */
const BATCH = 500;

/**
 * In a batch, more orphans than this share of the old files (and more than MAX_QUIET of them)
 * stops the sweep before it deletes anything of the batch: so many files without a job means the
 * storage and the database do not belong together (a wrong DATABASE_URL or STORAGE_URL, a database
 * restored from an older backup), not the odd crash, and that is for a person to look at.
 */
const MAX_ORPHAN_SHARE = 0.5;
const MAX_QUIET = 20;

/** The folders whose objects each belong to one job (StorageKeys). */
const PREFIXES = ['uploads/', 'processed/'] as const;

export interface OrphanSweepReport {
  /** Objects listed. */
  examined: number;
  /** Objects deleted, and their bytes. */
  removed: number;
  bytes: number;
  /** Why the sweep stopped without deleting a batch, when it did. */
  refused?: string;
}

/**
 * Deletes stored files that belong to no job: an original stored by an api killed before it
 * recorded the job, renditions of a job deleted while a worker killed before it noticed was
 * making them, files of a job whose row was deleted by a process killed before it deleted them.
 * The database is the truth: a file is an orphan when its job id (from its key) is not a job, in
 * the library or the trash, and it is older than ORPHAN_MIN_AGE (a file of an upload request still
 * running has no job yet). Nothing else is ever deleted, and a sweep that finds mostly orphans
 * stops and says so (see MAX_ORPHAN_SHARE). Run by the workers every ORPHAN_SWEEP_INTERVAL.
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

  /** One pass over the storage; `signal` stops it between two files (what was settled stays done). */
  async sweep(signal?: AbortSignal, now = new Date()): Promise<OrphanSweepReport> {
    const report: OrphanSweepReport = { examined: 0, removed: 0, bytes: 0 };
    const cutoff = now.getTime() - this.minAgeMs;
    for (const prefix of PREFIXES) {
      let batch = new Map<string, ListedObject[]>();
      for await (const object of this.storage.list(prefix)) {
        if (signal?.aborted) return this.done(report);
        report.examined += 1;
        const jobId = StorageKeys.jobIdOf(object.key);
        if (!jobId || object.modifiedAt.getTime() > cutoff) continue;
        const objects = batch.get(jobId);
        if (objects) objects.push(object);
        else batch.set(jobId, [object]);
        if (batch.size < BATCH) continue;
        if (!(await this.settle(batch, report))) return this.done(report);
        batch = new Map();
      }
      if (signal?.aborted || !(await this.settle(batch, report))) return this.done(report);
    }
    return this.done(report);
  }

  /** Deletes the objects of the batch's ids that are not jobs; false when it refused to. */
  private async settle(batch: Map<string, ListedObject[]>, report: OrphanSweepReport): Promise<boolean> {
    if (batch.size === 0) return true;
    const existing = await this.jobs.existingIds([...batch.keys()]);
    const orphans = [...batch].filter(([jobId]) => !existing.has(jobId)).flatMap(([, objects]) => objects);
    const old = [...batch.values()].reduce((sum, objects) => sum + objects.length, 0);
    if (orphans.length > MAX_QUIET && orphans.length > old * MAX_ORPHAN_SHARE) {
      report.refused =
        `${orphans.length} of ${old} stored files older than ${this.minAgeMs / 1000} s belong to no job in the database, ` +
        'too many for files left by crashes: check that DATABASE_URL and STORAGE_URL belong together ' +
        '(a database restored from an older backup does this too). Nothing was deleted; the sweep stops until its next turn.';
      return false;
    }
    for (const orphan of orphans) {
      await this.storage.delete(orphan.key);
      report.removed += 1;
      report.bytes += orphan.size;
    }
    return true;
  }

  private done(report: OrphanSweepReport): OrphanSweepReport {
    if (report.refused) this.logger.warn(`Orphan sweep stopped: ${report.refused}`);
    else if (report.removed > 0)
      this.logger.log(`Removed ${report.removed} stored file(s) (${formatBytes(report.bytes)}) that belonged to no job`);
    return report;
  }
}
