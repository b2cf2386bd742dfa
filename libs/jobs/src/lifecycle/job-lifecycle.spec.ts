import { Test, TestingModule } from '@nestjs/testing';
import fc from 'fast-check';
import IORedis from 'ioredis';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { AppConfig, CoreModule, loadConfig, newId, RedisConnections } from '@app/core';
import { JOB_STATUSES, type JobStatus } from '@app/shared';
import { StorageModule } from '@app/storage';
import type { JobStatusMessage } from '../events/job-events';
import { changesStatus, type Job, MOVES, type MoveName, UNPROCESSED } from '../job';
import { JobsModule } from '../jobs.module';
import { JobsRepository } from '../jobs.repository';
import { JobQueue } from '../queue/job-queue';
import { JobLifecycle, type Moved } from './job-lifecycle';

const MOVE_NAMES = Object.keys(MOVES) as MoveName[];
const SENTINEL = '{"sentinel":true}';

/**
 * JobLifecycle against the real repository (SQLite), queue and pub/sub (Redis): every move of
 * the table applies exactly when the table says, each status change publishes one event and tells
 * the observers once, and a move that does not apply changes nothing and says nothing.
 */
describe('JobLifecycle (real SQLite and Redis)', () => {
  let dir: string;
  let module: TestingModule;
  let lifecycle: JobLifecycle;
  let repository: JobsRepository;
  let queue: JobQueue;
  let prefix: string;
  let subscriber: IORedis;
  let sender: IORedis;
  let heard: string[] = [];
  let observed: Moved[] = [];
  let sentinels = 0;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'thumbs-lifecycle-'));
    const config = loadConfig(
      {
        NODE_ENV: 'test',
        DATA_DIR: dir,
        DATABASE_URL: `sqlite:${path.join(dir, 'thumbs.db')}`,
        STORAGE_URL: `file:${path.join(dir, 'files')}`,
        REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
        QUEUE_PREFIX: `${process.env.THUMBS_TEST_RUN ?? 'local'}-lifecycle-${process.pid}`,
        LOG_LEVEL: 'silent',
      },
      dir,
    );
    module = await Test.createTestingModule({
      imports: [CoreModule.forRoot(config, 'worker'), StorageModule.forRoot(config.storage), JobsModule.forRoot(config.database)],
    }).compile();
    await module.init();
    lifecycle = module.get(JobLifecycle);
    repository = module.get(JobsRepository);
    queue = module.get(JobQueue);
    prefix = module.get(AppConfig).redis.prefix;
    for (const status of JOB_STATUSES) lifecycle.after(status, (moved) => void observed.push(moved));
    subscriber = new IORedis(config.redis.url);
    sender = new IORedis(config.redis.url);
    subscriber.on('message', (_channel: string, message: string) => {
      if (message === SENTINEL) sentinels += 1;
      else heard.push(message);
    });
    await subscriber.subscribe(`${prefix}:job-status`);
  });

  afterAll(async () => {
    subscriber?.disconnect();
    sender?.disconnect();
    const redis = module?.get(RedisConnections).get('commands');
    const keys = redis ? await redis.keys(`${prefix}:*`) : [];
    if (redis && keys.length > 0) await redis.del(...keys);
    await module?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** Everything published since the last call: a sentinel sent after the awaited moves arrives after their events. */
  async function published(): Promise<JobStatusMessage[]> {
    const expected = sentinels + 1;
    await sender.publish(`${prefix}:job-status`, SENTINEL);
    for (let waited = 0; sentinels < expected; waited += 5) {
      if (waited > 5000) throw new Error('the sentinel did not come back');
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    const messages = heard.map((message) => JSON.parse(message) as JobStatusMessage);
    heard = [];
    return messages;
  }

  function takeObserved(): Moved[] {
    const moves = observed;
    observed = [];
    return moves;
  }

  async function stored(status: JobStatus, userId = newId()): Promise<Job> {
    const now = new Date();
    const job: Job = {
      id: newId(),
      userId,
      originalFilename: 'a.jpg',
      fileType: 'image',
      mimeType: 'image/jpeg',
      fileSize: 1,
      status,
      ...UNPROCESSED,
      errorMessage: status === 'failed' ? 'broken' : null,
      originalKey: 'uploads/x',
      contentHash: null,
      position: 'centre',
      claimToken: status === 'processing' ? newId() : null,
      attempts: 0,
      requestId: null,
      createdAt: now,
      updatedAt: now,
      startedAt: null,
      completedAt: null,
      deletedAt: null,
    };
    await repository.insertMany([job]);
    return job;
  }

  it('applies a move exactly when the table allows it, with one event and one observer call per status change', async () => {
    const step = fc.record({ move: fc.constantFrom(...MOVE_NAMES), rightToken: fc.boolean() });
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...JOB_STATUSES), fc.array(step, { minLength: 1, maxLength: 8 }), async (start, steps) => {
        let model = await stored(start);
        await published();
        takeObserved();
        for (const { move, rightToken } of steps) {
          const rule = MOVES[move];
          const held = 'held' in rule;
          const token = held ? (rightToken && model.claimToken ? model.claimToken : newId()) : undefined;
          const claims = move === 'claim' || move === 'reclaim';
          const options = {
            ...(held ? { claimToken: token } : {}),
            ...(claims ? { set: { claimToken: newId(), incrementAttempts: true } } : {}),
          } as Parameters<JobLifecycle['transition']>[2];
          const allowed = (rule.from as readonly JobStatus[]).includes(model.status) && (!held || token === model.claimToken);

          const result = await lifecycle.transition(model.id, move, options);
          const after = (await repository.findById(model.id))!;
          const events = await published();
          const moves = takeObserved();

          expect(result !== null).toBe(allowed);
          if (!allowed) {
            // Refused: nothing stored, nothing said.
            expect(after).toEqual(model);
            expect(events).toEqual([]);
            expect(moves).toEqual([]);
            continue;
          }
          expect(after).toEqual(result);
          expect(after.status).toBe(rule.to);
          if (claims) expect(after.attempts).toBe(model.attempts + 1);
          if (changesStatus(move)) {
            expect(events).toEqual([
              {
                jobId: model.id,
                userId: model.userId,
                status: rule.to,
                timestamp: after.updatedAt.getTime(),
                ...(rule.to === 'failed' && after.errorMessage ? { errorMessage: after.errorMessage } : {}),
              },
            ]);
            expect(moves).toEqual([{ job: after, move }]);
          } else {
            expect(events).toEqual([]);
            expect(moves).toEqual([]);
          }
          model = after;
        }
      }),
      { numRuns: 60 },
    );
  }, 120_000);

  it('never moves a completed job, and a held move needs the claim token', async () => {
    const done = await stored('completed');
    for (const move of MOVE_NAMES) {
      const options = ('held' in MOVES[move] ? { claimToken: newId() } : {}) as Parameters<JobLifecycle['transition']>[2];
      expect(await lifecycle.transition(done.id, move, options)).toBeNull();
    }
    const running = await stored('processing');
    await expect(lifecycle.transition(running.id, 'complete', {} as never)).rejects.toThrow(/holder of the job's claim/);
    expect((await repository.findById(running.id))!.status).toBe('processing');
    expect(await published()).toEqual([]);
    expect(takeObserved()).toEqual([]);
  });

  it('moves a batch: only the jobs the move starts from, one event each, in the given order', async () => {
    const userId = newId();
    const jobs = [
      await stored('pending', userId),
      await stored('failed', userId),
      await stored('pending', userId),
      await stored('queued', userId),
    ];
    await published();
    takeObserved();
    const moved = await lifecycle.transitionMany(jobs, 'queue', {});
    expect(moved.map((job) => job.id)).toEqual([jobs[0].id, jobs[2].id]);
    expect((await published()).map((event) => [event.jobId, event.status])).toEqual([
      [jobs[0].id, 'queued'],
      [jobs[2].id, 'queued'],
    ]);
    expect(takeObserved().map((entry) => entry.job.id)).toEqual([jobs[0].id, jobs[2].id]);
    for (const [index, status] of (['queued', 'failed', 'queued', 'queued'] as const).entries()) {
      expect((await repository.findById(jobs[index].id))!.status).toBe(status);
    }
  });

  it('hands the event to `carry` instead of publishing it, and calls it once either way', async () => {
    const job = await stored('failed');
    const carried: string[][] = [];
    const carry = (messages: string[]) => Promise.resolve(void carried.push(messages));
    expect(await lifecycle.transition(job.id, 'retry', { carry })).not.toBeNull();
    expect(await lifecycle.transition(job.id, 'retry', { carry })).toBeNull();
    expect(carried.map((messages) => messages.map((message) => (JSON.parse(message) as JobStatusMessage).status))).toEqual([
      ['queued'],
      [],
    ]);
    expect(await published()).toEqual([]);
    expect(takeObserved().map((entry) => entry.move)).toEqual(['retry']);
  });

  it('runs the flows of one user in order: queued events ride the FIFO script, a finish hands the turn on with its event', async () => {
    const userId = newId();
    const [first, second] = [await stored('pending', userId), await stored('pending', userId)];
    await published();
    takeObserved();
    await lifecycle.enqueueSoon(userId, [first, second]);
    expect(await queue.members(userId)).toEqual([first.id, second.id]);
    const claim = (await lifecycle.claim(first.id, userId))!;
    expect(claim.job.status).toBe('processing');
    // Someone else's token cannot finish it.
    expect(await lifecycle.finish({ ...claim, token: newId() }, 'complete', {})).toBeNull();
    expect(await queue.members(userId)).toEqual([first.id, second.id]);
    expect((await lifecycle.finish(claim, 'complete', { completedAt: new Date() }))!.status).toBe('completed');
    expect(await queue.members(userId)).toEqual([second.id]);
    // A finished job is not claimed again: the turn is passed on.
    expect(await lifecycle.claim(first.id, userId)).toBeNull();
    expect((await published()).map((event) => [event.jobId === first.id ? 'first' : 'second', event.status])).toEqual([
      ['first', 'queued'],
      ['second', 'queued'],
      ['first', 'processing'],
      ['first', 'completed'],
    ]);
    expect(takeObserved().map((entry) => entry.move)).toEqual(['queue', 'queue', 'claim', 'complete']);
  });

  it('tells later observers even when an earlier one throws, and stops telling one that unregistered', async () => {
    const calls: string[] = [];
    const stopFailing = lifecycle.after('queued', () => {
      throw new Error('observer broke');
    });
    const stopCounting = lifecycle.after('queued', ({ job }) => void calls.push(job.id));
    const job = await stored('pending');
    expect((await lifecycle.transition(job.id, 'queue', {}))!.status).toBe('queued');
    stopFailing();
    stopCounting();
    const other = await stored('pending');
    await lifecycle.transition(other.id, 'queue', {});
    expect(calls).toEqual([job.id]);
    await published();
    takeObserved();
  });
});
