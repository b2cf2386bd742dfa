import { MongooseModule } from '@nestjs/mongoose';
import { Test, TestingModule } from '@nestjs/testing';
import fc from 'fast-check';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { ApiKeysRepository, EmailTakenError, RefreshTokensRepository, UsersRepository } from '@app/auth';
import {
  ApiKeyDocument,
  ApiKeySchema,
  MongoApiKeysRepository,
  MongoRefreshTokensRepository,
  MongoUsersRepository,
  RefreshTokenDocument,
  RefreshTokenSchema,
  SqliteApiKeysRepository,
  SqliteRefreshTokensRepository,
  SqliteUsersRepository,
  UserDocument,
  UserSchema,
} from '@app/auth/adapters';
import { DatabaseConfig, DatabaseModule, newId, ServiceUnavailableError } from '@app/core';
import {
  Job,
  JOB_SORTS,
  JobSort,
  JobsRepository,
  ListPosition,
  ListQuery,
  SORT_DESCENDING,
  sortKeyOf,
  sourcesOf,
  TRANSITIONS,
  UNPROCESSED,
} from '@app/jobs';
import {
  IdempotencyKeyDocument,
  IdempotencyKeySchema,
  IdempotencyRecords,
  JobDocument,
  JobSchema,
  MongoIdempotencyRecords,
  MongoJobsRepository,
  SqliteIdempotencyRecords,
  SqliteJobsRepository,
} from '@app/jobs/adapters';
import { FILE_TYPES, JOB_STATUSES, JobStatus } from '@app/shared';

jest.setTimeout(120_000);

/**
 * One contract for both adapters of each persistence port. SQLite always runs; MongoDB runs when
 * MONGO_URL points at a server (each run uses its own database and drops it).
 */
const adapters: { name: string; config: () => DatabaseConfig }[] = [];
const sqliteDir = fs.mkdtempSync(path.join(os.tmpdir(), 'thumbs-contract-'));
adapters.push({ name: 'SQLite', config: () => ({ kind: 'sqlite', url: 'sqlite:', path: path.join(sqliteDir, `c-${newId()}.db`) }) });
if (process.env.MONGO_URL) {
  adapters.push({
    name: 'MongoDB',
    config: () => {
      const url = new URL(process.env.MONGO_URL!);
      url.pathname = `/thumbs_contract_${process.env.THUMBS_TEST_RUN ?? 'local'}_${Date.now().toString(36)}`;
      return { kind: 'mongo', url: url.toString() };
    },
  });
} else {
  console.log('Persistence contract: MongoDB adapter NOT run — MONGO_URL is not set (SQLite ran). Set MONGO_URL=mongodb://… to run it.');
}

async function compile(config: DatabaseConfig): Promise<TestingModule> {
  const mongo = config.kind === 'mongo';
  const module = await Test.createTestingModule({
    imports: [
      DatabaseModule.forRoot(config),
      ...(mongo
        ? [
            MongooseModule.forFeature([
              { name: UserDocument.name, schema: UserSchema },
              { name: JobDocument.name, schema: JobSchema },
              { name: IdempotencyKeyDocument.name, schema: IdempotencyKeySchema },
              { name: RefreshTokenDocument.name, schema: RefreshTokenSchema },
              { name: ApiKeyDocument.name, schema: ApiKeySchema },
            ]),
          ]
        : []),
    ],
    providers: [
      { provide: UsersRepository, useClass: mongo ? MongoUsersRepository : SqliteUsersRepository },
      { provide: JobsRepository, useClass: mongo ? MongoJobsRepository : SqliteJobsRepository },
      { provide: RefreshTokensRepository, useClass: mongo ? MongoRefreshTokensRepository : SqliteRefreshTokensRepository },
      { provide: ApiKeysRepository, useClass: mongo ? MongoApiKeysRepository : SqliteApiKeysRepository },
      { provide: IdempotencyRecords, useClass: mongo ? MongoIdempotencyRecords : SqliteIdempotencyRecords },
    ],
  }).compile();
  // Migrations and indexes are the adapters' own business at start: nothing here builds them.
  await module.init();
  return module;
}

function makeJob(userId: string, overrides: Partial<Job> = {}): Job {
  const id = newId();
  const now = new Date();
  return {
    id,
    userId,
    originalFilename: 'photo.jpg',
    fileType: 'image',
    mimeType: 'image/jpeg',
    fileSize: 1234,
    status: 'queued',
    ...UNPROCESSED,
    originalKey: `uploads/${id}`,
    contentHash: null,
    position: 'centre',
    claimToken: null,
    attempts: 0,
    requestId: null,
    createdAt: now,
    updatedAt: now,
    startedAt: null,
    completedAt: null,
    deletedAt: null,
    ...overrides,
  };
}

/** The ids of `jobs` in the order `list` gives under `sort`: by the order's key, ties by id. */
function idsInListOrder(jobs: readonly Job[], sort: JobSort): string[] {
  const compare = (a: number | string, b: number | string) => (a < b ? -1 : a > b ? 1 : 0);
  const direction = SORT_DESCENDING[sort] ? -1 : 1;
  return [...jobs]
    .sort((a, b) => direction * (compare(sortKeyOf(a, sort), sortKeyOf(b, sort)) || compare(a.id, b.id)))
    .map((job) => job.id);
}

/** The ids of every page of `query`, each page asked for after the last job of the one before (at most 200 pages). */
async function idsOfAllPages(jobs: JobsRepository, userId: string, query: Omit<ListQuery, 'after'>): Promise<string[]> {
  const seen: string[] = [];
  let after: ListPosition | undefined;
  for (let pages = 0; pages < 200; pages += 1) {
    const page = await jobs.list(userId, { ...query, after });
    seen.push(...page.map((job) => job.id));
    if (page.length < query.limit) break;
    const last = page[page.length - 1];
    after = { key: sortKeyOf(last, query.sort ?? 'newest'), id: last.id };
  }
  return seen;
}

describe.each(adapters)('persistence contract: $name', ({ config }) => {
  let module: TestingModule;
  let users: UsersRepository;
  let jobs: JobsRepository;
  let refreshTokens: RefreshTokensRepository;
  let apiKeys: ApiKeysRepository;
  let records: IdempotencyRecords;
  let databaseConfig: DatabaseConfig;

  beforeAll(async () => {
    databaseConfig = config();
    module = await compile(databaseConfig);
    users = module.get(UsersRepository);
    jobs = module.get(JobsRepository);
    refreshTokens = module.get(RefreshTokensRepository);
    records = module.get(IdempotencyRecords);
    apiKeys = module.get(ApiKeysRepository);
  });

  /** A user row (the auth tables refer to users). */
  async function someUser(): Promise<string> {
    const now = new Date();
    const id = newId();
    await users.create({ id, email: `u-${id}@example.com`, passwordHash: 'x', role: 'user', createdAt: now, updatedAt: now });
    return id;
  }

  describe('refresh tokens', () => {
    const token = (userId: string, familyId: string, overrides: Partial<Parameters<RefreshTokensRepository['insert']>[0]> = {}) => ({
      id: newId(),
      userId,
      familyId,
      tokenHash: `h-${newId()}`,
      createdAt: new Date(Math.floor(Date.now() / 1000) * 1000),
      expiresAt: new Date(Math.floor(Date.now() / 1000) * 1000 + 3_600_000),
      rotatedAt: null,
      revokedAt: null,
      ...overrides,
    });

    it('stores and finds a token by its hash; rotates it exactly once; revokes a family only', async () => {
      const userId = await someUser();
      const family = newId();
      const first = token(userId, family);
      const second = token(userId, family);
      const other = token(userId, newId());
      for (const item of [first, second, other]) await refreshTokens.insert(item);
      expect(await refreshTokens.findByHash(first.tokenHash)).toEqual(first);
      expect(await refreshTokens.findByHash('nope')).toBeNull();
      const now = new Date(Math.floor(Date.now() / 1000) * 1000);
      const wins = await Promise.all([1, 2, 3].map(() => refreshTokens.markRotated(first.id, now)));
      expect(wins.filter(Boolean)).toHaveLength(1);
      expect((await refreshTokens.findByHash(first.tokenHash))!.rotatedAt).toEqual(now);
      expect(await refreshTokens.isFamilyRevoked(family)).toBe(false);
      await refreshTokens.revokeFamily(family, now, now);
      expect((await refreshTokens.findByHash(second.tokenHash))!.revokedAt).toEqual(now);
      expect(await refreshTokens.isFamilyRevoked(family)).toBe(true);
      expect(await refreshTokens.isFamilyRevoked(other.familyId)).toBe(false);
      expect(await refreshTokens.isFamilyRevoked(newId())).toBe(false);
      expect(await refreshTokens.markRotated(second.id, now)).toBe(false);
      expect((await refreshTokens.findByHash(other.tokenHash))!.revokedAt).toBeNull();
    });

    it('deletes expired tokens only', async () => {
      const userId = await someUser();
      const expired = token(userId, newId(), { expiresAt: new Date(Date.now() - 60_000) });
      const live = token(userId, newId());
      await refreshTokens.insert(expired);
      await refreshTokens.insert(live);
      expect(await refreshTokens.deleteExpired(new Date())).toBeGreaterThanOrEqual(1);
      expect(await refreshTokens.findByHash(expired.tokenHash)).toBeNull();
      expect(await refreshTokens.findByHash(live.tokenHash)).not.toBeNull();
    });

    it('keeps a revoked family until the given time, past its tokens’ own expiry (an access token outliving REFRESH_TTL)', async () => {
      const userId = await someUser();
      const second = Math.floor(Date.now() / 1000) * 1000;
      const family = newId();
      const soon = token(userId, family, { expiresAt: new Date(second + 1_000) });
      const later = token(userId, family, { expiresAt: new Date(second + 600_000) });
      for (const item of [soon, later]) await refreshTokens.insert(item);
      await refreshTokens.revokeFamily(family, new Date(second), new Date(second + 60_000));
      expect((await refreshTokens.findByHash(soon.tokenHash))!.expiresAt).toEqual(new Date(second + 60_000));
      expect((await refreshTokens.findByHash(later.tokenHash))!.expiresAt).toEqual(new Date(second + 600_000));
      await refreshTokens.deleteExpired(new Date(second + 30_000));
      expect(await refreshTokens.isFamilyRevoked(family)).toBe(true);
      await refreshTokens.deleteExpired(new Date(second + 700_000));
      expect(await refreshTokens.isFamilyRevoked(family)).toBe(false);
    });
  });

  describe('API keys', () => {
    it('stores keys with their scopes, lists a user’s newest first, finds by hash and id, touches, deletes for the owner only', async () => {
      const userId = await someUser();
      const second = new Date(Math.floor(Date.now() / 1000) * 1000);
      const older = {
        id: newId(),
        userId,
        name: 'a',
        scopes: ['read' as const],
        keyHash: `k-${newId()}`,
        createdAt: new Date(second.getTime() - 1000),
        lastUsedAt: null,
      };
      const newer = {
        id: newId(),
        userId,
        name: 'b',
        scopes: ['read' as const, 'upload' as const, 'delete' as const],
        keyHash: `k-${newId()}`,
        createdAt: second,
        lastUsedAt: null,
      };
      await apiKeys.insert(older);
      await apiKeys.insert(newer);
      expect(await apiKeys.listByUser(userId)).toEqual([newer, older]);
      expect(await apiKeys.listByUser(newId())).toEqual([]);
      expect(await apiKeys.findByHash(newer.keyHash)).toEqual(newer);
      expect(await apiKeys.findByHash({ $ne: '' } as unknown as string)).toBeNull();
      expect(await apiKeys.findById(older.id)).toEqual(older);
      await apiKeys.touch(older.id, second);
      expect((await apiKeys.findById(older.id))!.lastUsedAt).toEqual(second);
      expect(await apiKeys.deleteOwned(older.id, newId())).toBe(false);
      expect(await apiKeys.deleteOwned(older.id, userId)).toBe(true);
      expect(await apiKeys.findByHash(older.keyHash)).toBeNull();
      expect(await apiKeys.deleteOwned(older.id, userId)).toBe(false);
    });
  });

  afterAll(async () => {
    if (databaseConfig?.kind === 'mongo')
      await module.get<{ db: { dropDatabase(): Promise<unknown> } }>(`${JobDocument.name}Model`).db.dropDatabase();
    await module?.close();
  });

  describe('users', () => {
    it('stores and finds users by id and email, and refuses a taken email', async () => {
      const now = new Date(Math.floor(Date.now() / 1000) * 1000);
      const user = {
        id: newId(),
        email: `ada-${newId()}@example.com`,
        passwordHash: '$2b$10$hash',
        role: 'user' as const,
        createdAt: now,
        updatedAt: now,
      };
      await users.create(user);
      expect(await users.findById(user.id)).toEqual(user);
      expect(await users.findByEmail(user.email)).toEqual(user);
      expect(await users.findByEmail(`other-${user.email}`)).toBeNull();
      await expect(users.create({ ...user, id: newId() })).rejects.toBeInstanceOf(EmailTakenError);
      const operator = { ...user, id: newId(), email: `op-${newId()}@example.com`, role: 'admin' as const };
      await users.create(operator);
      expect(await users.findById(operator.id)).toEqual(operator);
    });

    it('sets a role by email (the `admin` command) and lists the users holding it', async () => {
      const now = new Date(Math.floor(Date.now() / 1000) * 1000);
      const user = {
        id: newId(),
        email: `grace-${newId()}@example.com`,
        passwordHash: '$2b$10$hash',
        role: 'user' as const,
        createdAt: now,
        updatedAt: now,
      };
      await users.create(user);
      expect(await users.setRole(`nobody-${user.email}`, 'admin')).toBeNull();
      expect(await users.setRole(user.email, 'admin')).toMatchObject({ id: user.id, role: 'admin' });
      expect((await users.findById(user.id))?.role).toBe('admin');
      expect((await users.findByRole('admin')).map((found) => found.id)).toContain(user.id);
      expect(await users.setRole(user.email, 'user')).toMatchObject({ id: user.id, role: 'user' });
      expect((await users.findByRole('admin')).map((found) => found.id)).not.toContain(user.id);
    });

    it('treats lookup values as plain strings, never as query operators', async () => {
      expect(await users.findByEmail({ $ne: null } as unknown as string)).toBeNull();
      expect(await users.findById({ $gt: '' } as unknown as string)).toBeNull();
    });
  });

  describe('jobs', () => {
    it('finds a job by id, and by owner only for its owner', async () => {
      const job = makeJob(newId());
      await jobs.insertMany([job]);
      expect(await jobs.findById(job.id)).toEqual(job);
      expect(await jobs.findOwned(job.id, job.userId)).toEqual(job);
      expect(await jobs.findOwned(job.id, newId())).toBeNull();
      expect(await jobs.findById(newId())).toBeNull();
    });

    it('stores every field of a job, and every field a transition sets, as it was given', async () => {
      const at = (offset: number) => new Date(Math.floor(Date.now() / 1000) * 1000 + offset);
      const job = makeJob(newId(), {
        status: 'processing',
        errorMessage: 'before',
        errorCode: 'internal',
        thumbnailKey: 'processed/a/thumb.jpg',
        thumbnail2xKey: 'processed/a/thumb@2x.jpg',
        previewKey: 'processed/a/preview.webp',
        animatedPreviewKey: 'processed/a/animated.webp',
        thumbhash: '1QcSHQRnh493V4dIh4eXh1h4kJUI',
        width: 4032,
        height: 3024,
        durationMs: 12_345,
        contentHash: 'a'.repeat(64),
        position: 'attention',
        claimToken: 'claim',
        attempts: 2,
        requestId: 'req-1',
        createdAt: at(0),
        updatedAt: at(1),
        startedAt: at(2),
        completedAt: at(3),
        deletedAt: at(4),
      });
      await jobs.insertMany([job]);
      expect(await jobs.findById(job.id)).toEqual(job);
      const set = {
        errorMessage: 'The video could not be decoded.',
        errorCode: 'undecodable',
        thumbnailKey: 'processed/b/thumb.jpg',
        thumbnail2xKey: 'processed/b/thumb@2x.jpg',
        previewKey: 'processed/b/preview.webp',
        animatedPreviewKey: null,
        thumbhash: 'YJqGPQw7sFlslqhFafSE+Q6oJ1h2iHB2Rw',
        width: 1920,
        height: 1080,
        durationMs: 61_000,
        contentHash: 'b'.repeat(64),
        claimToken: null,
        requestId: 'req-2',
        startedAt: at(5),
        completedAt: at(6),
        deletedAt: null,
      } as const;
      const now = at(7);
      const moved = await jobs.transition(job.id, { from: ['processing'], claimToken: 'claim', to: 'failed', set, now });
      const expected = { ...job, ...set, status: 'failed', updatedAt: now };
      expect(moved).toEqual(expected);
      expect(await jobs.findById(job.id)).toEqual(expected);
    });

    it('lists a user’s jobs newest first, filtered by status, in pages that add up to the whole', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.constantFrom(...JOB_STATUSES), { minLength: 0, maxLength: 25 }),
          fc.integer({ min: 1, max: 7 }),
          fc.option(fc.constantFrom(...JOB_STATUSES)),
          async (statuses, limit, filter) => {
            const userId = newId();
            const mine = statuses.map((status) => makeJob(userId, { status }));
            await jobs.insertMany([...mine, makeJob(newId())]);
            const expected = mine
              .filter((job) => !filter || job.status === filter)
              .map((job) => job.id)
              .reverse();
            expect(await idsOfAllPages(jobs, userId, { limit, status: filter ?? undefined })).toEqual(expected);
            const counts = await jobs.countByStatus(userId);
            for (const status of JOB_STATUSES) expect(counts[status]).toBe(mine.filter((job) => job.status === status).length);
            const everyone = await jobs.countByStatus();
            const byType = await jobs.countByStatusAndType();
            for (const status of JOB_STATUSES) {
              expect(byType.filter((row) => row.status === status).reduce((sum, row) => sum + row.count, 0)).toBe(everyone[status]);
            }
          },
        ),
        { numRuns: 100 },
      );
    });

    it('lists in every order with ties broken by id, filtered by type, name (literally, any case) and trash, in pages that add up to the whole', async () => {
      const names = ['a.jpg', 'A.JPG', 'b_1.png', 'b%1.png', 'Été.mov', 'été.mov', 'c\\d.gif', 'zz.webp'];
      const base = Math.floor(Date.now() / 1000) * 1000;
      await fc.assert(
        fc.asyncProperty(
          fc.array(
            fc.record({
              name: fc.constantFrom(...names),
              size: fc.constantFrom(10, 20, 30),
              at: fc.constantFrom(0, 1000, 2000),
              type: fc.constantFrom(...FILE_TYPES),
              trashed: fc.boolean(),
            }),
            { maxLength: 20 },
          ),
          fc.constantFrom(...JOB_SORTS),
          fc.integer({ min: 1, max: 6 }),
          fc.option(fc.constantFrom(...FILE_TYPES)),
          fc.option(fc.constantFrom('a', 'J', '_', '%', 'é', 'ÉTÉ', '\\', '.', 'x', 'JPG', 'b_1', 'b%1', '.mov', 'c\\d', 'zzz')),
          fc.boolean(),
          async (specs, sort, limit, type, search, trashed) => {
            const userId = newId();
            const mine = specs.map((spec) =>
              makeJob(userId, {
                originalFilename: spec.name,
                fileSize: spec.size,
                fileType: spec.type,
                createdAt: new Date(base + spec.at),
                deletedAt: spec.trashed ? new Date(base) : null,
              }),
            );
            await jobs.insertMany([...mine, makeJob(newId(), { originalFilename: 'a.jpg' })]);
            const expected = idsInListOrder(
              mine
                .filter((job) => (job.deletedAt !== null) === trashed)
                .filter((job) => !type || job.fileType === type)
                .filter((job) => !search || job.originalFilename.toLowerCase().includes(search.toLowerCase())),
              sort,
            );
            const seen = await idsOfAllPages(jobs, userId, { limit, sort, trashed, type: type ?? undefined, search: search ?? undefined });
            expect(seen).toEqual(expected);
          },
        ),
        { numRuns: 100 },
      );
    });

    it('moves a job only when its status (and claim, when given) match: compare-and-set', async () => {
      const job = makeJob(newId());
      await jobs.insertMany([job]);
      expect(await jobs.transition(job.id, { from: ['failed'], to: 'queued' })).toBeNull();
      const claimed = await jobs.transition(job.id, {
        from: ['queued'],
        to: 'processing',
        set: { claimToken: 'A', startedAt: new Date(), incrementAttempts: true },
      });
      expect(claimed).toMatchObject({ status: 'processing', claimToken: 'A', attempts: 1 });
      expect(await jobs.transition(job.id, { from: ['processing'], claimToken: 'B', to: 'completed' })).toBeNull();
      const done = await jobs.transition(job.id, {
        from: ['processing'],
        claimToken: 'A',
        to: 'completed',
        set: { thumbnailKey: 'processed/x/thumb.jpg', claimToken: null, completedAt: new Date() },
      });
      expect(done).toMatchObject({ status: 'completed', thumbnailKey: 'processed/x/thumb.jpg', claimToken: null });
      expect(done!.updatedAt.getTime()).toBeGreaterThanOrEqual(job.updatedAt.getTime());
      expect(await jobs.transition(job.id, { from: sourcesOf('processing'), to: 'processing' })).toBeNull();
      expect(await jobs.transition(newId(), { from: ['queued'], to: 'processing' })).toBeNull();
    });

    it('lets exactly one of many simultaneous claims win', async () => {
      const job = makeJob(newId());
      await jobs.insertMany([job]);
      if (databaseConfig.kind === 'sqlite') {
        // Separate processes, each with its own connection to the file, as the api and workers have.
        const run = promisify(execFile);
        const file = databaseConfig.path;
        const startAt = Date.now() + 4000;
        const racers = await Promise.all(
          Array.from({ length: 6 }, (_, i) =>
            run(
              process.execPath,
              ['-r', '@swc-node/register', path.join(__dirname, 'cas-racer.ts'), file, job.id, String(startAt), `racer-${i}`],
              {
                cwd: path.resolve(__dirname, '../..'),
              },
            ),
          ),
        );
        const results = racers.map(({ stdout }) => JSON.parse(stdout) as { name: string; won: boolean });
        expect(results.filter((result) => result.won)).toHaveLength(1);
        expect((await jobs.findById(job.id))!.claimToken).toBe(results.find((result) => result.won)!.name);
      } else {
        const results = await Promise.all(
          Array.from({ length: 20 }, (_, i) =>
            jobs.transition(job.id, { from: ['queued'], to: 'processing', set: { claimToken: `c${i}` } }),
          ),
        );
        expect(results.filter(Boolean)).toHaveLength(1);
      }
    });

    it('never lets a job leave completed, nor move outside the lifecycle, whatever is attempted', async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(fc.constantFrom(...JOB_STATUSES), { minLength: 1, maxLength: 12 }), async (attempts) => {
          const job = makeJob(newId(), { status: 'pending' });
          await jobs.insertMany([job]);
          const path: JobStatus[] = ['pending'];
          for (const to of attempts) {
            const moved = await jobs.transition(job.id, { from: sourcesOf(to), to });
            if (moved) path.push(moved.status);
          }
          for (let i = 1; i < path.length; i += 1) expect(TRANSITIONS[path[i - 1]]).toContain(path[i]);
          const completed = path.indexOf('completed');
          if (completed >= 0) expect(path.slice(completed + 1)).toEqual([]);
          expect((await jobs.findById(job.id))!.status).toBe(path[path.length - 1]);
        }),
        { numRuns: 100 },
      );
    });

    it('lists completed jobs missing renditions newest first, and records renditions on them without moving them', async () => {
      const userId = newId();
      const completedAt = new Date(Date.now() - 60_000);
      const legacy = (id: string) => ({ status: 'completed' as const, thumbnailKey: `processed/${id}/thumb.jpg`, completedAt });
      const older = makeJob(userId);
      Object.assign(older, legacy(older.id));
      const newer = makeJob(userId);
      Object.assign(newer, legacy(newer.id));
      const current = makeJob(userId, { status: 'completed', thumbnailKey: 'k1', thumbnail2xKey: 'k2', completedAt });
      const failed = makeJob(userId, { status: 'failed' });
      await jobs.insertMany([older, newer, current, failed]);
      const mine = (list: Job[]) => list.map((job) => job.id).filter((id) => [older.id, newer.id, current.id, failed.id].includes(id));
      expect(mine(await jobs.findMissingRenditions({ limit: 10_000 }))).toEqual([newer.id, older.id]);
      expect(mine(await jobs.findMissingRenditions({ before: newer.id, limit: 10_000 }))).toEqual([older.id]);

      const set = {
        thumbnail2xKey: 'a',
        previewKey: 'b',
        animatedPreviewKey: null,
        thumbhash: 'h',
        width: 10,
        height: 20,
        durationMs: null,
      };
      const recorded = await jobs.recordRenditions(older.id, set);
      expect(recorded).toMatchObject({ ...set, status: 'completed', thumbnailKey: older.thumbnailKey, completedAt });
      expect(mine(await jobs.findMissingRenditions({ limit: 10_000 }))).toEqual([newer.id]);
      expect(await jobs.recordRenditions(failed.id, set)).toBeNull();
      expect((await jobs.findById(failed.id))!.thumbnail2xKey).toBeNull();
    });

    it('moves many at once and reports which moved', async () => {
      const userId = newId();
      const a = makeJob(userId, { status: 'pending' });
      const b = makeJob(userId, { status: 'pending' });
      const c = makeJob(userId, { status: 'failed' });
      await jobs.insertMany([a, b, c]);
      expect((await jobs.transitionMany([a.id, b.id, c.id], { from: ['pending'], to: 'queued' })).sort()).toEqual([a.id, b.id].sort());
      expect((await jobs.findById(c.id))!.status).toBe('failed');
      expect(await jobs.transitionMany([], { from: ['pending'], to: 'queued' })).toEqual([]);
    });

    it('deletes a job for its owner only', async () => {
      const job = makeJob(newId());
      await jobs.insertMany([job]);
      expect(await jobs.deleteOwned(job.id, newId())).toBeNull();
      expect(await jobs.deleteOwned(job.id, job.userId)).toEqual(job);
      expect(await jobs.findById(job.id)).toBeNull();
      expect(await jobs.deleteOwned(job.id, job.userId)).toBeNull();
    });

    it('moves jobs to the trash and back for their owner only, lists the trash apart, and purges only what is still expired', async () => {
      const userId = newId();
      const t = (offset: number) => new Date(Math.floor(Date.now() / 1000) * 1000 + offset);
      const [a, b, c] = [makeJob(userId), makeJob(userId), makeJob(userId)];
      await jobs.insertMany([a, b, c]);
      expect(await jobs.trash(newId(), [a.id], t(0))).toEqual([]);
      expect((await jobs.trash(userId, [a.id, b.id, newId()], t(0))).sort()).toEqual([a.id, b.id].sort());
      expect(await jobs.trash(userId, [a.id], t(5000))).toEqual([]); // already there: its time stays
      expect((await jobs.findById(a.id))!.deletedAt).toEqual(t(0));
      expect((await jobs.list(userId, { limit: 10 })).map((job) => job.id)).toEqual([c.id]);
      expect((await jobs.list(userId, { limit: 10, trashed: true })).map((job) => job.id)).toEqual([b.id, a.id]);
      expect(await jobs.restore(newId(), [b.id])).toEqual([]);
      expect(await jobs.restore(userId, [b.id, c.id])).toEqual([b.id]);
      expect((await jobs.findById(b.id))!.deletedAt).toBeNull();

      const expired = (await jobs.findTrashedBefore(t(1), 100_000)).map((job) => job.id);
      expect(expired).toContain(a.id);
      expect(expired).not.toContain(b.id);
      expect(await jobs.deleteTrashed(a.id, t(-1))).toBeNull(); // not yet past that cutoff
      expect(await jobs.deleteTrashed(b.id, t(1))).toBeNull(); // restored
      expect(await jobs.deleteTrashed(a.id, t(1))).toMatchObject({ id: a.id, deletedAt: t(0) });
      expect(await jobs.findById(a.id)).toBeNull();
      expect(await jobs.deleteTrashed(a.id, t(1))).toBeNull();
    });

    it("finds many of a user's jobs by id, tells which ids are anyone's jobs, and counts and sums a user's jobs by status, type and trash", async () => {
      const userId = newId();
      const [a, b, c] = [
        makeJob(userId, { status: 'completed', fileSize: 100 }),
        makeJob(userId, { status: 'completed', fileSize: 20, fileType: 'video', deletedAt: new Date() }),
        makeJob(userId, { status: 'failed', fileSize: 3 }),
      ];
      const theirs = makeJob(newId(), { fileSize: 1000 });
      await jobs.insertMany([a, b, c, theirs]);
      const found = await jobs.findOwnedMany(userId, [a.id, c.id, theirs.id, newId()]);
      expect(found.sort((x, y) => x.id.localeCompare(y.id))).toEqual([a, c].sort((x, y) => x.id.localeCompare(y.id)));
      expect(await jobs.findOwnedMany(userId, [])).toEqual([]);
      // Anyone's, trashed too; missing ids are left out, and any number of ids may be asked at once.
      const unknown = Array.from({ length: 1200 }, () => newId());
      expect(await jobs.existingIds([a.id, b.id, theirs.id, ...unknown, c.id])).toEqual(new Set([a.id, b.id, theirs.id, c.id]));
      expect(await jobs.existingIds([])).toEqual(new Set());
      const counts = await jobs.libraryCounts(userId);
      const key = (row: { status: string; fileType: string; trashed: boolean }) => `${row.status}/${row.fileType}/${row.trashed}`;
      expect(counts.map((row) => ({ ...row, key: key(row) })).sort((x, y) => x.key.localeCompare(y.key))).toEqual([
        { status: 'completed', fileType: 'image', trashed: false, count: 1, bytes: 100, key: 'completed/image/false' },
        { status: 'completed', fileType: 'video', trashed: true, count: 1, bytes: 20, key: 'completed/video/true' },
        { status: 'failed', fileType: 'image', trashed: false, count: 1, bytes: 3, key: 'failed/image/false' },
      ]);
      expect(await jobs.libraryCounts(newId())).toEqual([]);
    });

    it('keeps its counts and sums equal to the rows through any inserts, transitions, trash, restores and deletes', async () => {
      const operation = fc.oneof(
        fc.record({
          op: fc.constant('insert' as const),
          status: fc.constantFrom(...JOB_STATUSES),
          type: fc.constantFrom(...FILE_TYPES),
          size: fc.integer({ min: 0, max: 5000 }),
          trashed: fc.boolean(),
        }),
        fc.record({ op: fc.constant('transition' as const), pick: fc.nat(), to: fc.constantFrom(...JOB_STATUSES) }),
        fc.record({
          op: fc.constant('transitionMany' as const),
          picks: fc.array(fc.nat(), { maxLength: 4 }),
          to: fc.constantFrom(...JOB_STATUSES),
        }),
        fc.record({
          op: fc.constantFrom('trash' as const, 'restore' as const, 'delete' as const, 'purge' as const),
          picks: fc.array(fc.nat(), { maxLength: 4 }),
        }),
      );
      await fc.assert(
        fc.asyncProperty(fc.array(operation, { maxLength: 30 }), async (operations) => {
          const userId = newId();
          const ids: string[] = [];
          const pick = (n: number) => ids[n % ids.length];
          for (const step of operations) {
            if (step.op === 'insert') {
              const job = makeJob(userId, {
                status: step.status,
                fileType: step.type,
                fileSize: step.size,
                deletedAt: step.trashed ? new Date(Date.now() - 60_000) : null,
              });
              // Another user's job beside each: counts are per user.
              await jobs.insertMany([job, makeJob(newId(), { fileSize: 7 })]);
              ids.push(job.id);
              continue;
            }
            if (ids.length === 0) continue;
            if (step.op === 'transition') await jobs.transition(pick(step.pick), { from: [...JOB_STATUSES], to: step.to });
            else if (step.op === 'transitionMany') {
              await jobs.transitionMany([...new Set(step.picks.map(pick))], { from: [...JOB_STATUSES], to: step.to });
            } else if (step.op === 'trash') await jobs.trash(userId, [...new Set(step.picks.map(pick))], new Date(Date.now() - 60_000));
            else if (step.op === 'restore') await jobs.restore(userId, [...new Set(step.picks.map(pick))]);
            else if (step.op === 'delete') for (const id of new Set(step.picks.map(pick))) await jobs.deleteOwned(id, userId);
            else for (const id of new Set(step.picks.map(pick))) await jobs.deleteTrashed(id, new Date());
          }
          // The real count: the rows there are, grouped as the counts are.
          const rows = await jobs.findOwnedMany(userId, ids);
          const expected = new Map<
            string,
            { status: JobStatus; fileType: Job['fileType']; trashed: boolean; count: number; bytes: number }
          >();
          const byStatus = Object.fromEntries(JOB_STATUSES.map((status) => [status, 0]));
          for (const job of rows) {
            const trashed = job.deletedAt !== null;
            const key = `${job.status}/${job.fileType}/${trashed}`;
            const row = expected.get(key) ?? { status: job.status, fileType: job.fileType, trashed, count: 0, bytes: 0 };
            row.count += 1;
            row.bytes += job.fileSize;
            expected.set(key, row);
            byStatus[job.status] += 1;
          }
          const key = (row: { status: string; fileType: string; trashed: boolean }) => `${row.status}/${row.fileType}/${row.trashed}`;
          const sorted = <T extends { status: string; fileType: string; trashed: boolean }>(list: T[]) =>
            [...list].sort((x, y) => key(x).localeCompare(key(y)));
          expect(sorted(await jobs.libraryCounts(userId))).toEqual(sorted([...expected.values()]));
          expect(await jobs.originalBytes(userId)).toBe(rows.reduce((sum, job) => sum + job.fileSize, 0));
          expect(await jobs.countByStatus(userId)).toEqual(byStatus);
        }),
        { numRuns: 60 },
      );
    });

    it('finds names by substring beyond the first rows of every order, the same as matching row by row', async () => {
      const userId = newId();
      const base = Date.now() - 10_000_000;
      // 2,500 names, a few of them with a rare part far down every order, and some in the trash.
      const mine = Array.from({ length: 2500 }, (_, i) =>
        makeJob(userId, {
          originalFilename: i % 499 === 7 ? `Rare-Näme_${i}.JPG` : `img_${String(i).padStart(5, '0')}.jpg`,
          fileSize: (i * 7919) % 3000,
          fileType: i % 3 === 0 ? 'video' : 'image',
          status: i % 4 === 0 ? 'failed' : 'completed',
          createdAt: new Date(base + i * 1000),
          deletedAt: i % 11 === 0 ? new Date(base) : null,
        }),
      );
      await jobs.insertMany([...mine, makeJob(newId(), { originalFilename: 'rare-näme_1.jpg' })]);
      for (const search of ['RARE-NÄME', 'e_1', 'näm', 'img_0249', 'img_00', '%', 'zzz']) {
        for (const sort of JOB_SORTS) {
          for (const filter of [{}, { status: 'failed' as const }, { type: 'video' as const }, { trashed: true }]) {
            const expected = idsInListOrder(
              mine
                .filter((job) => (job.deletedAt !== null) === 'trashed' in filter)
                .filter((job) => !('status' in filter) || job.status === filter.status)
                .filter((job) => !('type' in filter) || job.fileType === filter.type)
                .filter((job) => job.originalFilename.toLowerCase().includes(search.toLowerCase())),
              sort,
            );
            const seen = await idsOfAllPages(jobs, userId, { limit: 7, sort, search, ...filter });
            expect({ search, sort, filter, ids: seen }).toEqual({ search, sort, filter, ids: expected });
          }
        }
      }
    });

    it('pages a name search far down the creation order exactly, with many jobs to a millisecond arriving out of id order', async () => {
      const userId = newId();
      const base = Date.now() - 20_000_000;
      // 30,000 jobs, five to each millisecond, inserted in random order. The matches are sparse (one
      // in 1,201, fewer than a page of 9 in any 2,000 rows of every filter's order, so those pages come
      // from the name index, not from looking through the first rows) plus a dense run among the oldest.
      let state = 12345;
      const random = () => (state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
      const mine = Array.from({ length: 30_000 }, (_, i) =>
        makeJob(userId, {
          originalFilename: i % 1201 === 1 || i < 40 ? `Old-Match_${i}.jpg` : `photo_${i}.jpg`,
          status: i % 3 === 0 ? 'failed' : 'completed',
          createdAt: new Date(base + Math.floor(i / 5)),
          deletedAt: i % 4 === 1 ? new Date(base) : null,
        }),
      );
      const shuffled = [...mine].sort(() => random() - 0.5);
      for (let i = 0; i < shuffled.length; i += 1000) await jobs.insertMany(shuffled.slice(i, i + 1000));
      // Gaps in a millisecond, then matching jobs coming into it before and after the ones left, with
      // the other filters' values, so pages end inside a millisecond.
      const gone = mine.filter((job, i) => i % 1201 === 1 && (i - 1) % 3603 === 0);
      for (const job of gone) await jobs.deleteOwned(job.id, userId);
      const late = gone.flatMap((job, n) => [
        // An id before every other id (a v7 id of the epoch), so it comes in at the front of its millisecond.
        makeJob(userId, {
          id: `00000000-0000-7000-8000-${job.id.slice(-12)}`,
          originalFilename: `old-match_late_${n}.png`,
          createdAt: job.createdAt,
          status: n % 2 === 0 ? 'failed' : 'completed',
          deletedAt: n % 3 === 0 ? new Date(base) : null,
        }),
        ...[0, 1].map((k) =>
          makeJob(userId, {
            originalFilename: `OLD-MATCH_later_${n}_${k}.png`,
            createdAt: job.createdAt,
            status: k === 0 ? 'failed' : 'completed',
            deletedAt: (n + k) % 3 === 0 ? new Date(base) : null,
          }),
        ),
      ]);
      for (const job of late) await jobs.insertMany([job]);
      const rows = [...mine.filter((job) => !gone.includes(job)), ...late];
      const expectedIds = (sort: 'newest' | 'oldest', filter: { status?: 'failed'; trashed?: boolean }) =>
        idsInListOrder(
          rows
            .filter((job) => (job.deletedAt !== null) === 'trashed' in filter)
            .filter((job) => !('status' in filter) || job.status === filter.status)
            .filter((job) => job.originalFilename.toLowerCase().includes('old-match')),
          sort,
        );
      for (const sort of ['newest', 'oldest'] as const) {
        for (const filter of [{}, { status: 'failed' as const }, { trashed: true }]) {
          for (const limit of [2, 9]) {
            const seen = await idsOfAllPages(jobs, userId, { limit, sort, search: 'OLD-match', ...filter });
            expect({ sort, filter, limit, ids: seen }).toEqual({ sort, filter, limit, ids: expectedIds(sort, filter) });
          }
        }
        // A page after each job of the crowded milliseconds: the rest of its millisecond comes first.
        const order = expectedIds(sort, {});
        for (const job of late.filter((one) => one.deletedAt === null)) {
          const at = order.indexOf(job.id);
          const page = await jobs.list(userId, { limit: 9, after: { key: sortKeyOf(job, sort), id: job.id }, sort, search: 'old-match' });
          expect({ sort, after: job.originalFilename, ids: page.map((one) => one.id) }).toEqual({
            sort,
            after: job.originalFilename,
            ids: order.slice(at + 1, at + 10),
          });
        }
      }
      // A cursor's key may be any safe integer: beyond every row, nothing is after it under oldest, all of the rest under newest.
      const far = { key: Number.MAX_SAFE_INTEGER, id: newId() };
      expect(await jobs.list(userId, { limit: 5, after: far, sort: 'oldest', search: 'old-match' })).toEqual([]);
      expect(await jobs.list(userId, { limit: 5, after: far, sort: 'newest', search: 'old-match' })).toHaveLength(5);
    });

    it('finds unfinished jobs oldest first, optionally only those untouched since a time', async () => {
      const userId = newId();
      const old = new Date(Date.now() - 60_000);
      const stale = makeJob(userId, { status: 'queued', updatedAt: old });
      const fresh = makeJob(userId, { status: 'processing' });
      const done = makeJob(userId, { status: 'completed', updatedAt: old });
      await jobs.insertMany([stale, fresh, done]);
      const all = (await jobs.findUnfinished()).map((job) => job.id);
      expect(all.indexOf(stale.id)).toBeLessThan(all.indexOf(fresh.id));
      expect(all).not.toContain(done.id);
      const untouched = (await jobs.findUnfinished({ updatedBefore: new Date(Date.now() - 30_000) })).map((job) => job.id);
      expect(untouched).toContain(stale.id);
      expect(untouched).not.toContain(fresh.id);
    });

    it('keeps idempotency responses per user for 24 h, the first one kept winning', async () => {
      const userId = newId();
      const now = new Date();
      expect(await records.findResponse(userId, 'k', now)).toBeNull();
      await records.saveResponse(userId, 'k', '{"jobs":[1]}', now);
      expect(await records.findResponse(userId, 'k', now)).toBe('{"jobs":[1]}');
      expect(await records.findResponse(newId(), 'k', now)).toBeNull();
      await records.saveResponse(userId, 'k', '{"jobs":[2]}', now);
      expect(await records.findResponse(userId, 'k', now)).toBe('{"jobs":[1]}');
      // After 24 hours the response is gone and the key may be used afresh.
      const later = new Date(now.getTime() + 25 * 3600 * 1000);
      expect(await records.findResponse(userId, 'k', later)).toBeNull();
      await records.saveResponse(userId, 'k', '{"jobs":[3]}', later);
      expect(await records.findResponse(userId, 'k', later)).toBe('{"jobs":[3]}');
    });

    it('sums a user’s original bytes, and finds their jobs by content hash (not trashed ones), oldest first', async () => {
      const userId = newId();
      const first = makeJob(userId, { fileSize: 100, contentHash: 'h1' });
      const second = makeJob(userId, { fileSize: 250, contentHash: 'h1' });
      const trashed = makeJob(userId, { fileSize: 50, contentHash: 'h2', deletedAt: new Date() });
      const someoneElses = makeJob(newId(), { fileSize: 999, contentHash: 'h1' });
      await jobs.insertMany([first, second, trashed, someoneElses]);
      expect(await jobs.originalBytes(userId)).toBe(400);
      expect(await jobs.originalBytes(newId())).toBe(0);
      expect(await jobs.findByContentHashes(userId, ['h1', 'h2', 'h3'])).toEqual([
        { id: first.id, originalFilename: 'photo.jpg', contentHash: 'h1' },
        { id: second.id, originalFilename: 'photo.jpg', contentHash: 'h1' },
      ]);
      expect(await jobs.findByContentHashes(userId, [])).toEqual([]);
    });

    it('answers a ping', async () => {
      await expect(jobs.ping()).resolves.toBeUndefined();
    });
  });
});

describe('persistence contract: MongoDB adapter while MongoDB is down', () => {
  // Needs no server: a port nothing listens on. Start-up must go on (the api then listens and
  // answers 503) instead of waiting for MongoDB, and every operation is refused as unavailable.
  let module: TestingModule;

  afterAll(async () => {
    await module?.close();
  });

  it('starts without waiting for MongoDB and answers every operation as unavailable', async () => {
    const port = await closedPort();
    const started = Date.now();
    module = await compile({ kind: 'mongo', url: `mongodb://127.0.0.1:${port}/thumbs_down` });
    // One connection attempt (serverSelectionTimeoutMS 5 s) at most, not the old 70 s of retries.
    expect(Date.now() - started).toBeLessThan(30_000);
    const users = module.get(UsersRepository);
    const jobs = module.get(JobsRepository);
    const now = new Date();
    const refused = [
      users.findByEmail('a@example.com'),
      users.findById(newId()),
      users.create({ id: newId(), email: 'b@example.com', passwordHash: 'x', role: 'user', createdAt: now, updatedAt: now }),
      jobs.findById(newId()),
      jobs.insertMany([makeJob(newId())]),
      jobs.transition(newId(), { from: ['queued'], to: 'processing' }),
      jobs.ping(),
    ];
    for (const operation of refused) await expect(operation).rejects.toBeInstanceOf(ServiceUnavailableError);
  });
});

/** A local port with nothing listening on it. */
function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

afterAll(() => fs.rmSync(sqliteDir, { recursive: true, force: true }));
