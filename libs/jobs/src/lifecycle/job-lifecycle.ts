import { Injectable, Logger } from '@nestjs/common';
import { newId } from '@app/core';
import { isTerminalStatus, type JobStatus } from '@app/shared';
import { JobEvents, type JobStatusMessage } from '../events/job-events';
import { withDeadline } from '../execution/with-timeout';
import { changesStatus, MOVES, UNPROCESSED, type HeldMove, type Job, type JobPatch, type MoveName } from '../job';
import { JobsRepository } from '../jobs.repository';
import { JobQueue } from '../queue/job-queue';
import type { Announcement } from '../queue/user-fifo';

/** How long an upload or a retry waits for Redis before answering anyway; the sweep queues what is left. */
const ENQUEUE_DEADLINE_MS = 3000;

const ABANDONED_MESSAGE =
  'Processing stopped repeatedly (the worker crashed or was stopped while handling this file). Retry it, or try a smaller or re-encoded file.';

export type MoveOptions<M extends MoveName> = {
  /** Fields stored with the move. */
  set?: JobPatch;
  now?: Date;
  /**
   * The caller's own write to Redis that the status message rides on (a FIFO script) instead of a
   * publish of its own: called once, with the message (and the job) when the job moved, with none
   * when it did not.
   */
  carry?: (messages: string[], moved: readonly Job[]) => Promise<void>;
} & (M extends HeldMove ? { claimToken: string } : { claimToken?: never });

/** What an observer hears: `job` (as stored now) has just made `move` into `job.status`. */
export interface Moved {
  job: Job;
  move: MoveName;
}

export type LifecycleObserver = (moved: Moved) => void | Promise<void>;

/** A worker's hold on a job, from `claim` to `finish` or `handBack`. */
export interface Claim {
  job: Job;
  token: string;
  /** How long the job waited since it was (last) queued. */
  waitedMs: number;
}

/**
 * The owner of the job lifecycle: the only code that moves a job between statuses (every move is
 * one of MOVES, checked by the repository's compare-and-set) and the only code that makes status
 * events. Each move that changes the status publishes exactly one event, after the move is stored:
 * on its own, or inside the FIFO script the move needs anyway (queueing, handing the user's turn
 * on), so the common path costs one round trip to Redis. Observers registered with `after` are
 * told of each status change once its event is out.
 *
 * JobQueue only schedules (the per-user FIFO and BullMQ) and never changes a job; the api
 * (JobsService) and the worker (JobRunner, the sweep) call the flows below.
 */
@Injectable()
export class JobLifecycle {
  private readonly logger = new Logger(JobLifecycle.name);
  private readonly observers = new Map<JobStatus, LifecycleObserver[]>();

  constructor(
    private readonly jobs: JobsRepository,
    private readonly queue: JobQueue,
    private readonly events: JobEvents,
  ) {}

  /**
   * Calls `observer` after every move into `status` (once the move is stored and its event sent).
   * Observers are awaited in turn, so keep them quick (hand slow work to a queue); one that throws
   * is logged and does not undo the move. Resolves a function that unregisters it.
   */
  after(status: JobStatus, observer: LifecycleObserver): () => void {
    const list = this.observers.get(status) ?? [];
    list.push(observer);
    this.observers.set(status, list);
    return () => {
      const index = list.indexOf(observer);
      if (index >= 0) list.splice(index, 1);
    };
  }

  /**
   * The one gate: moves job `id` by `move` when its status is one the move starts from (and, for
   * a held move, when it is held with `claimToken`), then sends its status event and tells the
   * observers. Resolves the job as stored after the move, or null when the move did not apply.
   */
  async transition<M extends MoveName>(id: string, move: M, options: MoveOptions<M>): Promise<Job | null> {
    const { from, to } = this.check(move, options.claimToken);
    const moved = await this.jobs.transition(id, { from, to, claimToken: options.claimToken, set: options.set, now: options.now });
    await this.announce(moved ? [moved] : [], move, options.carry);
    return moved;
  }

  /**
   * `transition` for a batch of jobs (not held moves): resolves the jobs that moved, as they are
   * now (the given jobs with the move applied), in the given order.
   */
  async transitionMany<M extends Exclude<MoveName, HeldMove>>(jobs: readonly Job[], move: M, options: MoveOptions<M>): Promise<Job[]> {
    const { from, to } = this.check(move, undefined);
    const now = options.now ?? new Date();
    const ids = new Set(
      jobs.length === 0
        ? []
        : await this.jobs.transitionMany(
            jobs.map((job) => job.id),
            { from, to, set: options.set, now },
          ),
    );
    const moved = jobs.filter((job) => ids.has(job.id)).map((job) => applied(job, to, options.set, now));
    await this.announce(moved, move, options.carry);
    return moved;
  }

  // The flows: what the api and the workers ask of the lifecycle.

  /**
   * Queues stored jobs of one user: the pending ones move to queued, and all join the user's FIFO
   * in the given order, their events riding the same script. For the api: waits for Redis at most
   * ENQUEUE_DEADLINE_MS and never fails for Redis (the jobs are stored; the sweep queues them).
   * Resolves the jobs as they are now.
   */
  async enqueueSoon(userId: string, jobs: readonly Job[]): Promise<Job[]> {
    const queued = await this.transitionMany(jobs, 'queue', {
      carry: (messages) =>
        this.soon(
          jobs.map((job) => job.id),
          this.queue.enqueue(
            userId,
            jobs.map((job) => job.id),
            this.announcement(messages),
          ),
        ),
    });
    const now = new Map(queued.map((job) => [job.id, job]));
    return jobs.map((job) => now.get(job.id) ?? job);
  }

  /** `enqueueSoon` for the sweep: waits for Redis and fails when it does. */
  async enqueue(userId: string, jobs: readonly Job[]): Promise<void> {
    await this.transitionMany(jobs, 'queue', {
      carry: (messages) =>
        this.queue.enqueue(
          userId,
          jobs.map((job) => job.id),
          this.announcement(messages),
        ),
    });
  }

  /** A failed job goes back on its user's queue, behind their other waiting jobs; null when it is not failed (any more). */
  retry(job: Job, requestId: string | null): Promise<Job | null> {
    return this.transition(job.id, 'retry', {
      set: { ...UNPROCESSED, completedAt: null, startedAt: null, claimToken: null, requestId },
      carry: async (messages) => {
        if (messages.length === 0) return;
        const requeue = async () => {
          await this.queue.forget(job.id).catch(() => undefined);
          await this.queue.enqueue(job.userId, [job.id], this.announcement(messages));
        };
        await this.soon([job.id], requeue());
      },
    });
  }

  /**
   * A worker takes the job (queued → processing, or processing → processing when its previous
   * worker died) with a fresh claim token. Null when there is nothing to run (the job is finished
   * or gone): the user's turn has then been handed on.
   */
  async claim(jobId: string, userId: string): Promise<Claim | null> {
    const current = await this.jobs.findById(jobId);
    if (current && !isTerminalStatus(current.status)) {
      const token = newId();
      const startedAt = new Date();
      const options = {
        set: { claimToken: token, startedAt, errorMessage: null, errorCode: null, incrementAttempts: true },
        now: startedAt,
      };
      // Try the move its status calls for, then the other (it changed meanwhile).
      const [first, second] = current.status === 'processing' ? (['reclaim', 'claim'] as const) : (['claim', 'reclaim'] as const);
      const job = (await this.transition(jobId, first, options)) ?? (await this.transition(jobId, second, options));
      if (job) return { job, token, waitedMs: Math.max(0, startedAt.getTime() - current.updatedAt.getTime()) };
    }
    await this.queue.advance(userId, jobId);
    return null;
  }

  /**
   * The holder ends its run (completed or failed) and the user's next job gets its turn, the
   * status event riding the script that hands the turn on. `ended` is called in between, with the
   * finished job, or null when the claim was lost: the job was deleted (the turn is handed on) or
   * another worker took it over (that worker hands the turn on). Resolves the same.
   */
  finish(claim: Claim, move: 'complete' | 'fail', set: JobPatch, ended?: (finished: Job | null) => void): Promise<Job | null> {
    const { id, userId } = claim.job;
    return this.transition(id, move, {
      claimToken: claim.token,
      set: { ...set, claimToken: null },
      carry: async (messages, moved) => {
        ended?.(moved[0] ?? null);
        if (moved.length === 0 && (await this.jobs.findById(id))?.status === 'processing') return;
        await this.queue.advance(userId, id, this.announcement(messages));
      },
    });
  }

  /** The holder gives the job back (queued) for another run; it stays its user's current job. */
  handBack(claim: Claim): Promise<Job | null> {
    return this.transition(claim.job.id, 'handBack', { claimToken: claim.token, set: { claimToken: null } });
  }

  /** BullMQ gave up on a job (its workers kept dying on it): fail it, and hand the user's turn on. */
  abandon(jobId: string, userId: string, reason: string): Promise<Job | null> {
    this.logger.error({ jobId, userId, reason }, 'Job abandoned by BullMQ');
    return this.transition(jobId, 'abandon', {
      set: { errorMessage: ABANDONED_MESSAGE, errorCode: 'abandoned', claimToken: null },
      carry: (messages) => this.queue.advance(userId, jobId, this.announcement(messages)),
    });
  }

  /** Deletes the user's job (null when it is not theirs or gone) and takes it off the queue if it was waiting. */
  async remove(userId: string, jobId: string): Promise<Job | null> {
    const job = await this.jobs.deleteOwned(jobId, userId);
    if (!job) return null;
    await this.queue.withdraw(userId, job.id).catch((error: Error) => {
      this.logger.warn(`Could not take deleted job ${job.id} off the queue (the worker will skip it): ${error.message}`);
    });
    return job;
  }

  /** Hands the user's turn on past a job that is finished or gone (for the sweep). */
  async pass(userId: string, jobId: string): Promise<void> {
    await this.queue.advance(userId, jobId);
  }

  private check(move: MoveName, claimToken: string | undefined): { from: readonly JobStatus[]; to: JobStatus } {
    const rule = MOVES[move];
    if (!rule) throw new Error(`No such move: ${String(move)}`);
    if ('held' in rule && rule.held && claimToken === undefined) throw new Error(`"${move}" is for the holder of the job's claim only`);
    return rule;
  }

  /** Sends the events of jobs that have just made `move` (through `carry` when given), then tells the observers. */
  private async announce(moved: readonly Job[], move: MoveName, carry: MoveOptions<MoveName>['carry']): Promise<void> {
    const messages = changesStatus(move) ? moved.map((job) => JSON.stringify(statusMessage(job))) : [];
    try {
      if (carry) await carry(messages, moved);
      else for (const message of messages) await this.events.publish(message);
    } finally {
      if (messages.length > 0) for (const job of moved) await this.notify(job, move);
    }
  }

  private async notify(job: Job, move: MoveName): Promise<void> {
    for (const observer of this.observers.get(job.status) ?? []) {
      try {
        await observer({ job, move });
      } catch (error) {
        this.logger.warn(`An observer of "${job.status}" failed for job ${job.id}: ${(error as Error).message}`);
      }
    }
  }

  private announcement(messages: readonly string[]): Announcement {
    return { channel: this.events.channel, messages };
  }

  /** Waits for `work` up to ENQUEUE_DEADLINE_MS; past that, or when it fails, logs and goes on. */
  private async soon(ids: readonly string[], work: Promise<void>): Promise<void> {
    try {
      await withDeadline(ENQUEUE_DEADLINE_MS, `no answer from Redis within ${ENQUEUE_DEADLINE_MS} ms`, work);
    } catch (error) {
      this.logger.warn(
        `Jobs ${ids.join(', ')} are stored but not yet on the queue (${(error as Error).message}); the sweep will queue them.`,
      );
    }
  }
}

/** A job's status event as published on Redis (the api adds signed URLs per recipient). */
export function statusMessage(job: Job): JobStatusMessage {
  const message: JobStatusMessage = { jobId: job.id, userId: job.userId, status: job.status, timestamp: job.updatedAt.getTime() };
  if (job.status === 'failed' && job.errorMessage) message.errorMessage = job.errorMessage;
  if (job.status === 'failed' && job.errorCode) message.errorCode = job.errorCode;
  return message;
}

/** `job` after a move to `to` at `now` that stored `set` (what the repository did to it). */
function applied(job: Job, to: JobStatus, set: JobPatch | undefined, now: Date): Job {
  const { incrementAttempts, ...fields } = set ?? {};
  return { ...job, ...fields, status: to, updatedAt: now, attempts: job.attempts + (incrementAttempts ? 1 : 0) };
}
