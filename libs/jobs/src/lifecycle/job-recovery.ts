import { Inject, Injectable, Logger } from '@nestjs/common';
import { isTerminalStatus } from '@app/shared';
import type { Job } from '../job';
import { JobsRepository } from '../jobs.repository';
import { JobQueue } from '../queue/job-queue';
import { JobLifecycle } from './job-lifecycle';

export interface SweepReport {
  rebuilt: boolean;
  redispatched: number;
  advanced: number;
  failed: number;
  requeued: number;
}

/**
 * The repair sweep, run periodically by workers (one at a time, under a Redis lock): puts right
 * what a crash between two steps, or an outage, can leave between the database and the queue.
 * The database is the truth; what changes a job goes through JobLifecycle.
 * - rebuilds the FIFOs if Redis lost them;
 * - every user's head must be live on BullMQ: re-queued if missing, passed if already finished,
 *   abandoned (failed) if BullMQ gave up on it (its workers kept dying);
 * - unfinished jobs the FIFOs do not know (an upload whose enqueue failed) are queued.
 */
@Injectable()
export class JobRecovery {
  private readonly logger = new Logger(JobRecovery.name);

  constructor(
    private readonly queue: JobQueue,
    private readonly lifecycle: JobLifecycle,
    @Inject(JobsRepository) private readonly jobs: Pick<JobsRepository, 'findById' | 'findUnfinished'>,
  ) {}

  async sweep(graceMs: number): Promise<SweepReport> {
    const report: SweepReport = { rebuilt: false, redispatched: 0, advanced: 0, failed: 0, requeued: 0 };
    await this.queue.exclusively(Math.max(graceMs, 30_000), async () => {
      report.rebuilt = await this.queue.rebuild();
      for (const userId of await this.queue.users()) await this.repairHead(userId, report);
      await this.queueOrphans(graceMs, report);
    });
    if (report.redispatched + report.advanced + report.failed + report.requeued > 0) {
      this.logger.warn(`Queue repaired: ${JSON.stringify(report)}`);
    }
    return report;
  }

  private async repairHead(userId: string, report: SweepReport): Promise<void> {
    for (let steps = 0; steps < 100; steps += 1) {
      const head = await this.queue.head(userId);
      if (!head || head.state === 'live') return;
      const job = await this.jobs.findById(head.jobId);
      if (!job || isTerminalStatus(job.status)) {
        await this.lifecycle.pass(userId, head.jobId);
        report.advanced += 1;
        continue;
      }
      if (head.state === 'failed') {
        await this.lifecycle.abandon(job.id, userId, head.reason);
        report.failed += 1;
        continue;
      }
      await this.queue.redispatch(userId, head);
      report.redispatched += 1;
      return;
    }
  }

  private async queueOrphans(graceMs: number, report: SweepReport): Promise<void> {
    const stale = await this.jobs.findUnfinished({ updatedBefore: new Date(Date.now() - graceMs), limit: 10_000 });
    const byUser = new Map<string, Job[]>();
    for (const job of stale) {
      const list = byUser.get(job.userId);
      if (list) list.push(job);
      else byUser.set(job.userId, [job]);
    }
    for (const [userId, jobs] of byUser) {
      const listed = new Set(await this.queue.members(userId));
      const missing = jobs.filter((job) => !listed.has(job.id));
      if (missing.length === 0) continue;
      await this.lifecycle.enqueue(userId, missing);
      report.requeued += missing.length;
    }
  }
}
