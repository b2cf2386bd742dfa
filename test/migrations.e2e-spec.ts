import * as bcrypt from 'bcryptjs';
import Database from 'better-sqlite3';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { AUTH_SQLITE_MIGRATIONS } from '@app/auth/adapters';
import { newId } from '@app/core';
import { JOBS_SQLITE_MIGRATIONS } from '@app/jobs/adapters';
import type { AuthResult } from '@app/shared';
import { ChildApp } from './support/child-app';
import { ApiClient, request } from './support/client';
import { clearRedisPrefix, testEnv, uniquePrefix } from './support/env';
import { createLegacyDatabase } from './support/legacy-schema';
import { freePort, waitForHealthy } from './support/stack';

jest.setTimeout(120_000);

const ROOT = path.resolve(__dirname, '..');
const ALL_MIGRATIONS = [...AUTH_SQLITE_MIGRATIONS, ...JOBS_SQLITE_MIGRATIONS].map((migration) => migration.id);
const PASSWORD = 'correct horse battery';

/**
 * Schema migrations on real SQLite files made by the schema of before migrations (read from git):
 * several processes starting at once migrate each step exactly once, and the built api and worker,
 * started together on such a database with data in it, upgrade it and keep every row.
 */
describe('SQLite schema migrations', () => {
  let dir: string;

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'thumbs-migrations-'));
  });

  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  function legacyUser() {
    const now = Date.now() - 86_400_000;
    return {
      id: newId(),
      email: `legacy-${newId()}@example.com`,
      password_hash: bcrypt.hashSync(PASSWORD, 10),
      created_at: now,
      updated_at: now,
    };
  }

  function legacyJob(
    userId: string,
    status: string,
    extra: Record<string, string | number | null> = {},
  ): Record<string, string | number | null> & { id: string; created_at: number } {
    const id = newId();
    const now = Date.now() - 3_600_000;
    return {
      id,
      user_id: userId,
      original_filename: `${status}.jpg`,
      file_type: 'image',
      mime_type: 'image/jpeg',
      file_size: 1234,
      status,
      original_key: `uploads/${id}`,
      attempts: 0,
      created_at: now,
      updated_at: now,
      ...extra,
    };
  }

  it('migrates each step exactly once when six processes start on the same old database at once', async () => {
    for (const round of [0, 1]) {
      const file = path.join(dir, `race-${round}.db`);
      // Round 0: a database from before migrations; round 1: no file at all.
      if (round === 0) createLegacyDatabase(file, { users: [legacyUser()], jobs: [] });
      const run = promisify(execFile);
      const startAt = Date.now() + 4000;
      const racers = await Promise.all(
        Array.from({ length: 6 }, () =>
          run(process.execPath, ['-r', '@swc-node/register', path.join(__dirname, 'support/migrate-racer.ts'), file, String(startAt)], {
            cwd: ROOT,
          }),
        ),
      );
      const applied = racers.flatMap(({ stdout }) => (JSON.parse(stdout) as { applied: string[] }).applied);
      expect(applied.sort()).toEqual([...ALL_MIGRATIONS].sort());
      const db = new Database(file, { readonly: true });
      expect((db.prepare('SELECT id FROM schema_migrations ORDER BY id').all() as { id: string }[]).map((row) => row.id)).toEqual(
        [...ALL_MIGRATIONS].sort(),
      );
      db.close();
    }
  });

  it('upgrades an old database with users and jobs when the api and a worker start on it together, keeping every row', async () => {
    const user = legacyUser();
    const completedAt = Date.now() - 3_000_000;
    // Creation order (failed, then completed and queued in one millisecond) unlike id order (completed, failed, queued).
    const createdAt = Date.now() - 3_600_000;
    const completed = legacyJob(user.id, 'completed', {
      thumbnail_key: 'processed/x/thumb.jpg',
      completed_at: completedAt,
      created_at: createdAt,
    });
    const failed = legacyJob(user.id, 'failed', { error_message: 'The image file is incomplete or damaged.', created_at: createdAt - 5 });
    // Queued before the upgrade, its original on disk: the upgraded worker must still finish it.
    const queued = legacyJob(user.id, 'queued', { created_at: createdAt });
    const file = path.join(dir, 'thumbs.db');
    createLegacyDatabase(file, { users: [user], jobs: [completed, failed, queued] });
    const original = path.join(dir, 'files', String(queued.original_key));
    fs.mkdirSync(path.dirname(original), { recursive: true });
    fs.writeFileSync(
      original,
      await sharp({ create: { width: 64, height: 48, channels: 3, background: '#36c' } })
        .jpeg()
        .toBuffer(),
    );

    const prefix = uniquePrefix(`migrations-${process.pid}`);
    const port = await freePort();
    const env: Record<string, string> = {
      ...testEnv(dir, prefix),
      LOG_LEVEL: 'info',
      PORT: String(port),
      QUEUE_SWEEP_MS: '1000',
      WORKER_CONCURRENCY: '1',
    };
    const apps = [new ChildApp('api', env), new ChildApp('worker', env)];
    try {
      const baseUrl = `http://127.0.0.1:${port}`;
      await Promise.all([waitForHealthy(`${baseUrl}/api/health`, apps[0], 60_000), apps[1].waitForLine(/consuming/, 60_000)]);

      // Each migration was applied by exactly one of the two processes.
      const appliedBy = apps.map((app) => app.lines.filter((line) => /Applied (auth|jobs)\//.test(line)).join('\n'));
      for (const id of ALL_MIGRATIONS) {
        expect(appliedBy.filter((lines) => lines.includes(`${id} (`))).toHaveLength(1);
      }

      const login = await request<AuthResult>(baseUrl, 'POST', '/api/auth/login', { json: { email: user.email, password: PASSWORD } });
      expect(login.status).toBe(200);
      expect(login.body.user).toEqual({ id: user.id, email: user.email, createdAt: new Date(user.created_at).toISOString() });
      const client = new ApiClient(baseUrl, login.body.accessToken, login.body.user);

      const finished = await client.waitFor(queued.id, ['completed', 'failed'], 60_000);
      expect(finished.status).toBe('completed');
      const page = await client.list();
      expect(page.status).toBe(200);
      const byId = new Map(page.body.items.map((job) => [job.id, job]));
      expect(byId.get(completed.id)).toMatchObject({
        originalFilename: 'completed.jpg',
        status: 'completed',
        fileSize: 1234,
        createdAt: new Date(completed.created_at).toISOString(),
        completedAt: new Date(completedAt).toISOString(),
      });
      expect(byId.get(completed.id)!.thumbnailUrl).toMatch(/^\/api\/thumbnails\//);
      expect(byId.get(failed.id)).toMatchObject({ status: 'failed', errorMessage: 'The image file is incomplete or damaged.' });
      // The fields added since: what a job made before them has (a failure of unknown cause may be retried).
      const added = {
        thumbnail2xUrl: null,
        previewUrl: null,
        animatedPreviewUrl: null,
        thumbhash: null,
        width: null,
        height: null,
        durationMs: null,
        contentHash: null,
        position: 'centre',
        deletedAt: null,
      };
      expect(byId.get(completed.id)).toMatchObject({ ...added, errorCode: null, retryable: false });
      expect(byId.get(failed.id)).toMatchObject({ ...added, errorCode: null, retryable: true });
      const db = new Database(file, { readonly: true });
      expect(db.prepare('SELECT role FROM users WHERE id = ?').get(user.id)).toEqual({ role: 'user' });
      // The kept counts (jobs/0005) and the name index (jobs/0006) were filled from the rows there were.
      expect(
        db
          .prepare('SELECT status, file_type, trashed, count, bytes FROM job_counts WHERE user_id = ? AND count > 0 ORDER BY status')
          .all(user.id),
      ).toEqual([
        { status: 'completed', file_type: 'image', trashed: 0, count: 2, bytes: 1234 * 2 },
        { status: 'failed', file_type: 'image', trashed: 0, count: 1, bytes: 1234 },
      ]);
      const named = (text: string) =>
        db
          .prepare(
            'SELECT job_id FROM job_names WHERE seq IN (SELECT rowid FROM job_names_fts WHERE job_names_fts MATCH ?) ORDER BY job_id',
          )
          .all(`"${text}"`);
      expect(named('omplete')).toEqual([{ job_id: completed.id }]);
      expect(named('.jpg')).toEqual([completed.id, failed.id, queued.id].sort().map((id) => ({ job_id: id })));
      // Its row ids follow creation order (jobs/0007): created_at × 65,536 + the place in the millisecond by id.
      const slot = (at: number, place: number) => BigInt(at) * 65_536n + BigInt(place);
      expect(db.prepare('SELECT job_id, seq FROM job_names ORDER BY seq').safeIntegers().all()).toEqual([
        { job_id: failed.id, seq: slot(createdAt - 5, 0) },
        { job_id: completed.id, seq: slot(createdAt, 0) },
        { job_id: queued.id, seq: slot(createdAt, 1) },
      ]);
      db.close();
      const stats = await request<{ total: number; byStatus: Record<string, number> }>(baseUrl, 'GET', '/api/jobs/stats', {
        headers: { authorization: `Bearer ${login.body.accessToken}` },
      });
      expect(stats.body).toMatchObject({ total: 3, byStatus: { completed: 2, failed: 1, queued: 0 }, bytes: 1234 * 3 });

      // New rows go into the upgraded tables and through the pipeline.
      const [job] = await client.uploadOk([{ name: 'new.jpg', data: fs.readFileSync(original), type: 'image/jpeg' }]);
      expect((await client.waitFor(job.id)).status).toBe('completed');
    } finally {
      await Promise.all(apps.map((app) => app.stop()));
      await clearRedisPrefix(env.REDIS_URL, prefix);
    }
  });
});
