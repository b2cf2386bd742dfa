import { Injectable, Logger } from '@nestjs/common';
import { AppConfig } from '@app/core';
import { isTerminalStatus } from '@app/shared';
import { JobsRepository } from '../jobs.repository';
import { JobsService } from '../jobs.service';
import { JobQueue } from '../queue/job-queue';

/** Jobs looked at per round of a purge. */
const BATCH = 100;

/**
 * Empties the trash of what has been there longer than TRASH_TTL: each job is deleted only if it
 * is still in the trash and still past the cutoff (one conditional delete), and only the process
 * whose delete removed it deletes its files. So any number of workers may purge at once, and a
 * restore that comes first always wins. Run by the workers on their sweep interval.
 */
@Injectable()
export class TrashPurge {
  private readonly logger = new Logger(TrashPurge.name);
  private readonly ttlMs: number;

  constructor(
    private readonly jobs: JobsRepository,
    private readonly service: JobsService,
    private readonly queue: JobQueue,
    config: AppConfig,
  ) {
    this.ttlMs = config.library.trashTtlSeconds * 1000;
  }

  /** Purges every job trashed before `now - TRASH_TTL`; resolves how many this call removed. */
  async purge(now = new Date()): Promise<number> {
    const cutoff = new Date(now.getTime() - this.ttlMs);
    let purged = 0;
    for (;;) {
      const expired = await this.jobs.findTrashedBefore(cutoff, BATCH);
      let removed = 0;
      for (const candidate of expired) {
        const job = await this.jobs.deleteTrashed(candidate.id, cutoff);
        if (!job) continue; // restored meanwhile, or another process purged it
        removed += 1;
        // Trashed while still waiting: off its user's queue (a running one's worker finds it gone).
        if (!isTerminalStatus(job.status)) await this.queue.withdraw(job.userId, job.id).catch(() => undefined);
        await this.service.deleteFiles(job);
      }
      purged += removed;
      if (expired.length < BATCH || removed === 0) break;
    }
    if (purged > 0) this.logger.log(`Purged ${purged} job(s) from the trash (older than ${this.ttlMs / 1000} s)`);
    return purged;
  }
}
