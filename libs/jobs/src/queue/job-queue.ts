import { InjectQueue } from '@nestjs/bullmq';
import { Injectable, Logger } from '@nestjs/common';
import type { JobsOptions, Queue } from 'bullmq';
import { randomUUID } from 'node:crypto';
import { AppConfig, RedisConnections, ServiceUnavailableError } from '@app/core';
import { isTerminalStatus } from '@app/shared';
import { JobEvents } from '../events/job-events';
import type { Job } from '../job';
import { JobsRepository } from '../jobs.repository';
import { Announcement, UserFifo } from './user-fifo';

export const THUMBNAIL_QUEUE = 'thumbnails';

/** Payload of a BullMQ job: just the pointer; everything else is read from the database. */
export interface ThumbnailJobData {
  jobId: string;
  userId: string;
}

/** Attempts for transient failures (storage hiccups, unexpected errors), with exponential backoff. */
export const MAX_ATTEMPTS = 4;
export const BACKOFF_MS = 2000;

const JOB_OPTIONS: JobsOptions = {
  attempts: MAX_ATTEMPTS,
  backoff: { type: 'exponential', delay: BACKOFF_MS },
  // The database keeps the history; finished queue entries only need to go.
  removeOnComplete: true,
  // Kept for operators: a job lands here only when workers died on it too often.
  removeOnFail: { age: 7 * 24 * 3600, count: 1000 },
};

/** BullMQ states in which a job will still be (or is being) run. */
const LIVE_STATES = new Set(['active', 'waiting', 'delayed', 'prioritized', 'waiting-children']);

export interface SweepReport {
  rebuilt: boolean;
  redispatched: number;
  advanced: number;
  failed: number;
  requeued: number;
}

/**
 * Per-user FIFO on BullMQ. Each user's unfinished jobs wait in a Redis list (UserFifo); only the
 * head of each list is on the BullMQ queue. Different users' heads run in parallel on any number
 * of workers; a user's next job is put on the queue only when the previous one has finished
 * (`advance`, called by the worker before it tells BullMQ the job is done). If a worker dies, BullMQ's
 * stalled-job check hands the head to another worker, which finishes it (or, when it had already
 * finished, just advances). `sweep` repairs whatever a crash between two steps could leave behind,
 * and rebuilds the lists from the database when Redis has lost them.
 */
@Injectable()
export class JobQueue {
  private readonly logger = new Logger(JobQueue.name);
  readonly fifo: UserFifo;
  private readonly lockKeys: { rebuild: string; sweep: string };

  constructor(
    @InjectQueue(THUMBNAIL_QUEUE) readonly queue: Queue<ThumbnailJobData>,
    private readonly redis: RedisConnections,
    private readonly jobs: JobsRepository,
    private readonly events: JobEvents,
    private readonly config: AppConfig,
  ) {
    const prefix = config.redis.prefix;
    this.fifo = new UserFifo(redis.get('commands'), prefix);
    this.lockKeys = { rebuild: `${prefix}:fifo:rebuild-lock`, sweep: `${prefix}:fifo:sweep-lock` };
  }

  /**
   * Appends a user's jobs (in order) to their FIFO and puts the head on the queue. `announce`:
   * jobs whose current status is published in the same script, before they join the list (one
   * round trip to Redis instead of one more per job).
   */
  async enqueue(userId: string, jobIds: readonly string[], announce: readonly Job[] = []): Promise<void> {
    let announcement: Announcement | undefined = { channel: this.events.channel, messages: announce.map((job) => JobEvents.encode(job)) };
    for (let round = 0; round < 3; round += 1) {
      const head = await this.fifo.push(userId, jobIds, announcement);
      announcement = undefined;
      if (head !== UserFifo.REBUILD_NEEDED) {
        if (head) await this.dispatch({ jobId: head, userId });
        return;
      }
      await this.rebuild();
    }
    throw new ServiceUnavailableError('The queue is being rebuilt. Try again shortly.', 'redis');
  }

  /**
   * Called when a user's job has finished: takes it off their FIFO and queues the next one.
   * `finished`: the job as it finished, whose status is published in the same script first.
   */
  async advance(userId: string, finishedJobId: string, finished?: Job): Promise<void> {
    const announcement = finished ? { channel: this.events.channel, messages: [JobEvents.encode(finished)] } : undefined;
    const head = await this.fifo.remove(userId, finishedJobId, announcement);
    if (head) await this.dispatch({ jobId: head, userId });
  }

  /** Takes a waiting job off its user's FIFO (when deleted). A head is left for its worker to finish. */
  async withdraw(userId: string, jobId: string): Promise<void> {
    await this.fifo.withdraw(userId, jobId);
  }

  /** Forgets a finished BullMQ entry for this job so a retry can queue it again. */
  async forget(jobId: string): Promise<void> {
    const existing = await this.queue.getJob(jobId);
    if (existing && ((await existing.isCompleted()) || (await existing.isFailed()))) await existing.remove();
  }

  /** Jobs waiting behind their user's current job (in the FIFOs but not yet on BullMQ). */
  async backlog(): Promise<number> {
    const users = await this.fifo.users();
    if (users.length === 0) return 0;
    const commands = this.redis.get('commands');
    const lengths = await commands.pipeline(users.map((userId) => ['llen', this.fifo.listKey(userId)])).exec();
    return (lengths ?? []).reduce((sum, [, length]) => sum + Math.max(0, Number(length) - 1), 0);
  }

  /** Puts a job on BullMQ; a no-op when it is already there (the job id is the BullMQ id). */
  async dispatch(data: ThumbnailJobData): Promise<void> {
    await this.queue.add('thumbnail', data, { ...JOB_OPTIONS, jobId: data.jobId });
  }

  /**
   * Rebuilds the FIFOs from the database (every unfinished job, in upload order) when the epoch
   * marker is missing, i.e. on first start or after Redis lost its data. One process rebuilds under
   * a lock; the others wait for it.
   */
  async rebuild(): Promise<boolean> {
    if (await this.fifo.hasEpoch()) return false;
    const commands = this.redis.get('commands');
    const token = randomUUID();
    const acquired = await commands.set(this.lockKeys.rebuild, token, 'PX', 60_000, 'NX');
    if (!acquired) {
      for (let waited = 0; waited < 60_000; waited += 100) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        if (await this.fifo.hasEpoch()) return false;
      }
      throw new ServiceUnavailableError('The queue is being rebuilt. Try again shortly.', 'redis');
    }
    try {
      const unfinished = await this.jobs.findUnfinished();
      const lists = new Map<string, string[]>();
      for (const job of unfinished) {
        const list = lists.get(job.userId) ?? [];
        list.push(job.id);
        lists.set(job.userId, list);
      }
      await this.fifo.replaceAll(lists);
      for (const [userId, jobIds] of lists) await this.dispatch({ jobId: jobIds[0], userId });
      this.logger.log(`Queue bookkeeping rebuilt from the database: ${unfinished.length} unfinished jobs of ${lists.size} users`);
      return true;
    } finally {
      await commands.eval(RELEASE_LOCK, 1, this.lockKeys.rebuild, token).catch(() => undefined);
    }
  }

  /**
   * Repairs the queue after crashes and outages; run periodically by workers (one at a time).
   * - rebuilds the FIFOs if Redis lost them;
   * - every user's head must be live on BullMQ: re-queued if missing, advanced past if already
   *   finished, failed if BullMQ gave up on it (workers kept dying on it);
   * - unfinished jobs the FIFOs do not know (an upload whose enqueue failed) are appended.
   */
  async sweep(graceMs: number): Promise<SweepReport> {
    const report: SweepReport = { rebuilt: false, redispatched: 0, advanced: 0, failed: 0, requeued: 0 };
    const commands = this.redis.get('commands');
    const token = randomUUID();
    if (!(await commands.set(this.lockKeys.sweep, token, 'PX', Math.max(graceMs, 30_000), 'NX'))) return report;
    try {
      report.rebuilt = await this.rebuild();
      for (const userId of await this.fifo.users()) await this.repairHead(userId, report);
      await this.requeueOrphans(graceMs, report);
    } finally {
      await commands.eval(RELEASE_LOCK, 1, this.lockKeys.sweep, token).catch(() => undefined);
    }
    if (report.redispatched + report.advanced + report.failed + report.requeued > 0) {
      this.logger.warn(`Queue repaired: ${JSON.stringify(report)}`);
    }
    return report;
  }

  private async repairHead(userId: string, report: SweepReport): Promise<void> {
    for (let steps = 0; steps < 100; steps += 1) {
      const head = await this.fifo.head(userId);
      if (!head) {
        await this.redis.get('commands').srem(this.fifo.usersKey, userId);
        return;
      }
      const state = await this.queue.getJobState(head);
      if (LIVE_STATES.has(state)) return;
      const job = await this.jobs.findById(head);
      if (!job || isTerminalStatus(job.status)) {
        await this.fifo.remove(userId, head);
        report.advanced += 1;
        continue;
      }
      if (state === 'failed') {
        const reason = (await this.queue.getJob(head))?.failedReason ?? 'unknown';
        await this.failAbandoned(job, reason);
        await this.fifo.remove(userId, head);
        report.failed += 1;
        continue;
      }
      if (state === 'completed') await this.queue.remove(head);
      await this.dispatch({ jobId: head, userId });
      report.redispatched += 1;
      return;
    }
  }

  /** Marks a job failed after BullMQ gave up on it (its workers died repeatedly). */
  async failAbandoned(job: Job, reason: string): Promise<void> {
    this.logger.error({ jobId: job.id, userId: job.userId, reason }, 'Job abandoned by BullMQ');
    const failed = await this.jobs.transition(job.id, {
      from: ['pending', 'queued', 'processing'],
      to: 'failed',
      set: {
        errorMessage:
          'Processing stopped repeatedly (the worker crashed or was stopped while handling this file). Retry it, or try a smaller or re-encoded file.',
        errorCode: 'abandoned',
        claimToken: null,
      },
    });
    if (failed) await this.events.publish(failed);
  }

  private async requeueOrphans(graceMs: number, report: SweepReport): Promise<void> {
    const stale = await this.jobs.findUnfinished({ updatedBefore: new Date(Date.now() - graceMs), limit: 10_000 });
    const byUser = new Map<string, Job[]>();
    for (const job of stale) {
      const list = byUser.get(job.userId);
      if (list) list.push(job);
      else byUser.set(job.userId, [job]);
    }
    for (const [userId, jobs] of byUser) {
      const listed = new Set(await this.fifo.members(userId));
      const missing = jobs.filter((job) => !listed.has(job.id));
      if (missing.length === 0) continue;
      const pending = missing.filter((job) => job.status === 'pending').map((job) => job.id);
      for (const id of await this.jobs.transitionMany(pending, { from: ['pending'], to: 'queued' })) {
        const job = await this.jobs.findById(id);
        if (job) await this.events.publish(job);
      }
      await this.enqueue(
        userId,
        missing.map((job) => job.id),
      );
      report.requeued += missing.length;
    }
  }
}

const RELEASE_LOCK = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;
