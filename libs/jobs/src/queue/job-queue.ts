import { InjectQueue } from '@nestjs/bullmq';
import { Inject, Injectable, Logger } from '@nestjs/common';
import type { JobsOptions, Queue } from 'bullmq';
import { randomUUID } from 'node:crypto';
import { AppConfig, RedisConnections, ServiceUnavailableError } from '@app/core';
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

/** Where a user's head job stands on BullMQ (for the sweep). */
export type HeadState = { jobId: string; state: 'live' | 'missing' | 'completed' } | { jobId: string; state: 'failed'; reason: string };

/** Jobs on the queue: BullMQ's states, and `backlog`, the jobs waiting behind their user's current one. */
export type QueueDepth = Record<'waiting' | 'active' | 'delayed' | 'prioritized' | 'failed' | 'backlog', number>;

/**
 * Per-user FIFO on BullMQ: scheduling only. Each user's unfinished jobs wait in a Redis list
 * (UserFifo); only the head of each list is on the BullMQ queue. Different users' heads run in
 * parallel on any number of workers; a user's next job is put on the queue only when the previous
 * one has finished (`advance`). The queue never changes a job: JobLifecycle decides every move
 * and calls the queue, handing it the status messages to publish inside its scripts (one round
 * trip to Redis, not two). It reads the database only to rebuild its lists when Redis lost them.
 */
@Injectable()
export class JobQueue {
  private readonly logger = new Logger(JobQueue.name);
  private readonly fifo: UserFifo;
  private readonly lockKeys: Record<'rebuild' | 'sweep', string>;
  private readonly prefix: string;

  constructor(
    @InjectQueue(THUMBNAIL_QUEUE) private readonly queue: Queue<ThumbnailJobData>,
    private readonly redis: RedisConnections,
    @Inject(JobsRepository) private readonly jobs: Pick<JobsRepository, 'findUnfinished'>,
    config: AppConfig,
  ) {
    const prefix = (this.prefix = config.redis.prefix);
    // Its connection's errors are logged by RedisConnections; BullMQ prints unheard ones to stderr
    // as stack traces, several a second while Redis is down.
    this.queue.on('error', () => undefined);
    this.fifo = new UserFifo(redis.get('commands'), prefix);
    this.lockKeys = { rebuild: `${prefix}:fifo:rebuild-lock`, sweep: `${prefix}:fifo:sweep-lock` };
  }

  /**
   * Appends a user's jobs (in order) to their FIFO and puts the head on the queue. `announce` is
   * published by the same script, before the jobs join the list.
   */
  async enqueue(userId: string, jobIds: readonly string[], announce?: Announcement): Promise<void> {
    let announcement = announce;
    for (let round = 0; round < 3; round += 1) {
      const head = await this.fifo.push(userId, jobIds, announcement);
      // Published even when a rebuild is needed: the next round goes without.
      announcement = undefined;
      if (head !== UserFifo.REBUILD_NEEDED) {
        if (head) await this.dispatch(userId, head);
        return;
      }
      await this.rebuild();
    }
    throw new ServiceUnavailableError('The queue is being rebuilt. Try again shortly.', 'redis');
  }

  /**
   * Called when a user's job has finished (or is gone): takes it off their FIFO and queues the
   * next one. `announce` is published by the same script first.
   */
  async advance(userId: string, finishedJobId: string, announce?: Announcement): Promise<void> {
    const head = await this.fifo.remove(userId, finishedJobId, announce);
    if (head) await this.dispatch(userId, head);
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

  async depth(): Promise<QueueDepth> {
    const counts = await this.queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'failed');
    return { waiting: 0, active: 0, delayed: 0, prioritized: 0, failed: 0, ...counts, backlog: await this.backlog() };
  }

  /** Jobs waiting behind their user's current job (in the FIFOs but not yet on BullMQ). */
  private async backlog(): Promise<number> {
    const users = await this.fifo.users();
    if (users.length === 0) return 0;
    const commands = this.redis.get('commands');
    const lengths = await commands.pipeline(users.map((userId) => ['llen', this.fifo.listKey(userId)])).exec();
    return (lengths ?? []).reduce((sum, [, length]) => sum + Math.max(0, Number(length) - 1), 0);
  }

  /** Puts a job on BullMQ; a no-op when it is already there (the job id is the BullMQ id). */
  private async dispatch(userId: string, jobId: string): Promise<void> {
    await this.queue.add('thumbnail', { jobId, userId }, { ...JOB_OPTIONS, jobId });
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
      for (const [userId, jobIds] of lists) await this.dispatch(userId, jobIds[0]);
      this.logger.log(`Queue bookkeeping rebuilt from the database: ${unfinished.length} unfinished jobs of ${lists.size} users`);
      return true;
    } finally {
      await commands.eval(RELEASE_LOCK, 1, this.lockKeys.rebuild, token).catch(() => undefined);
    }
  }

  // The sweep's view (JobRecovery): what the lists and BullMQ hold, under one lock at a time.

  /** Runs `work` unless another process is sweeping (then resolves null). */
  async exclusively<T>(ttlMs: number, work: () => Promise<T>): Promise<T | null> {
    const commands = this.redis.get('commands');
    const token = randomUUID();
    if (!(await commands.set(this.lockKeys.sweep, token, 'PX', ttlMs, 'NX'))) return null;
    try {
      return await work();
    } finally {
      await commands.eval(RELEASE_LOCK, 1, this.lockKeys.sweep, token).catch(() => undefined);
    }
  }

  /**
   * True for the one caller, of every process sharing this Redis, that takes the turn of the
   * periodic task `name`; the next turn comes `everyMs` later.
   */
  async takeTurn(name: string, everyMs: number): Promise<boolean> {
    return (await this.redis.get('commands').set(`${this.prefix}:turn:${name}`, String(process.pid), 'PX', everyMs, 'NX')) === 'OK';
  }

  /** Users with unfinished jobs on their FIFO. */
  users(): Promise<string[]> {
    return this.fifo.users();
  }

  /** A user's waiting and running job ids, in order. */
  members(userId: string): Promise<string[]> {
    return this.fifo.members(userId);
  }

  /** The user's head job and its BullMQ state; null (and the user forgotten) when the list is empty. */
  async head(userId: string): Promise<HeadState | null> {
    const jobId = await this.fifo.head(userId);
    if (!jobId) {
      await this.redis.get('commands').srem(this.fifo.usersKey, userId);
      return null;
    }
    const state = await this.queue.getJobState(jobId);
    if (LIVE_STATES.has(state)) return { jobId, state: 'live' };
    if (state === 'failed') return { jobId, state, reason: (await this.queue.getJob(jobId))?.failedReason ?? 'unknown' };
    return { jobId, state: state === 'completed' ? 'completed' : 'missing' };
  }

  /** Puts a head that is missing from BullMQ (or finished there while unfinished in the database) back on it. */
  async redispatch(userId: string, head: HeadState): Promise<void> {
    if (head.state === 'completed') await this.queue.remove(head.jobId);
    await this.dispatch(userId, head.jobId);
  }
}

const RELEASE_LOCK = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;
