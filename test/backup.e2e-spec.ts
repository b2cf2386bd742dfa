import Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { AuthResult } from '@app/shared';
import type { BackupManifest } from '@app/core';
import { backupCli } from './support/backup-cli';
import { ChildApp } from './support/child-app';
import { ApiClient, request } from './support/client';
import { testEnv, uniquePrefix } from './support/env';
import { media } from './support/media';
import { freePort, TestStack, waitForHealthy } from './support/stack';

jest.setTimeout(300_000);

const PASSWORD = 'correct horse battery';
const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

describe('backup and restore (npm run backup / restore on the built bundle, running api + worker, SQLite, local storage)', () => {
  let stack: TestStack;
  let user: ApiClient;
  const dirs: string[] = [];
  const tempDir = (label: string) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `thumbs-${label}-`));
    dirs.push(dir);
    return dir;
  };
  let backupDir: string;
  let manifest: BackupManifest;
  let completedInBackup: { id: string; thumbnail_key: string }[];
  let unfinishedInBackup: { id: string }[];
  let uploadsDuringBackup = 0;

  beforeAll(async () => {
    stack = await TestStack.start({ workers: 1 });
    user = await ApiClient.register(stack.baseUrl, undefined, PASSWORD);
    // Some finished work before the backup starts.
    const first = await user.uploadOk([await media.jpeg(), await media.pngWithAlpha(), await media.jpeg(240, 160, '#d53a7b')]);
    for (const job of first) expect((await user.waitFor(job.id, ['completed', 'failed'], 60_000)).status).toBe('completed');

    // Load: keep uploading (and the worker keeps writing rows and thumbnails) for the whole backup.
    let loading = true;
    const load = (async () => {
      let i = 0;
      while (loading) {
        i += 1;
        await user.uploadOk([await media.jpeg(200 + (i % 50), 120, i % 2 ? '#3ad57b' : '#7b3ad5')]);
        uploadsDuringBackup += 1;
      }
    })();
    await new Promise((resolve) => setTimeout(resolve, 300));
    const countBefore = uploadsDuringBackup;
    backupDir = path.join(tempDir('backup'), 'nested', 'b1');
    const run = backupCli(stack.env, 'backup', backupDir);
    const result = await run.done;
    uploadsDuringBackup -= countBefore;
    loading = false;
    await load;
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(result.stdout).toMatch(/backup done/);

    manifest = JSON.parse(fs.readFileSync(path.join(backupDir, 'manifest.json'), 'utf8')) as BackupManifest;
    const db = new Database(path.join(backupDir, 'thumbs.db'), { readonly: true, fileMustExist: true });
    try {
      completedInBackup = db
        .prepare("SELECT id, thumbnail_key FROM jobs WHERE status = 'completed' ORDER BY id")
        .all() as typeof completedInBackup;
      unfinishedInBackup = db
        .prepare("SELECT id FROM jobs WHERE status IN ('pending', 'queued', 'processing')")
        .all() as typeof unfinishedInBackup;
    } finally {
      db.close();
    }
  });

  afterAll(async () => {
    await stack?.stop();
    for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('writes a manifest with every file’s key, size and SHA-256, the database hash, the version and the time', () => {
    expect(manifest).toMatchObject({ format: 1, thumbsVersion: '0.1.0', missing: [], notes: [] });
    expect(Date.parse(manifest.createdAt)).toBeGreaterThan(Date.now() - 10 * 60_000);
    expect(manifest.database!.sha256).toBe(sha256(fs.readFileSync(path.join(backupDir, 'thumbs.db'))));
    expect(manifest.database!.migrations).toEqual(
      expect.arrayContaining([expect.stringMatching(/^jobs\//), expect.stringMatching(/^auth\//)]),
    );
    expect(manifest.files!.length).toBeGreaterThan(0);
    for (const entry of manifest.files!) {
      const data = fs.readFileSync(path.join(backupDir, 'files', ...entry.key.split('/')));
      expect({ key: entry.key, size: data.length, sha256: sha256(data) }).toEqual(entry);
    }
    // Nothing half-written: the driver's temp folder is not part of a backup.
    expect(manifest.files!.some((entry) => entry.key.startsWith('.'))).toBe(false);
    expect(manifest.secret).not.toBeNull();
  });

  it('was taken under load, and every file the snapshot’s rows name is in it', () => {
    // The load really ran during the backup (uploads answered 201 while the command ran).
    expect(uploadsDuringBackup).toBeGreaterThan(0);
    expect(completedInBackup.length).toBeGreaterThanOrEqual(3);
    const keys = new Set(manifest.files!.map((entry) => entry.key));
    for (const job of completedInBackup) {
      expect(keys).toContain(job.thumbnail_key);
      expect(keys).toContain(`uploads/${job.id}`);
    }
  });

  it('restores into an empty data folder; a new api on it serves every completed job with identical thumbnail bytes, a new worker finishes the rest', async () => {
    const dir = tempDir('restored');
    const env = { ...testEnv(dir, uniquePrefix(`backup-${process.pid}`)), LOG_LEVEL: 'info', PORT: String(await freePort()) };
    const restored = await backupCli(env, 'restore', backupDir).done;
    expect(restored).toMatchObject({ code: 0, stderr: '' });
    expect(restored.stdout).toMatch(new RegExp(`verified: database and ${manifest.files!.length} file\\(s\\) match the manifest`));

    const api = new ChildApp('api', env);
    try {
      const baseUrl = `http://127.0.0.1:${env.PORT}`;
      await waitForHealthy(`${baseUrl}/api/health`, api, 60_000);
      // The account came back with the database: a fresh sign-in on the restored api works.
      const login = await request<AuthResult>(baseUrl, 'POST', '/api/auth/login', { json: { email: user.user.email, password: PASSWORD } });
      expect(login.status).toBe(200);
      const restoredUser = new ApiClient(baseUrl, login.body.accessToken, login.body.user);
      const byKey = new Map(manifest.files!.map((entry) => [entry.key, entry]));
      for (const job of completedInBackup) {
        const view = await restoredUser.job(job.id);
        expect(view).toMatchObject({ status: 200, body: { id: job.id, status: 'completed' } });
        const onRestored = await restoredUser.fetchBytes(view.body.thumbnailUrl!);
        expect(onRestored.status).toBe(200);
        expect(sha256(onRestored.data)).toBe(byKey.get(job.thumbnail_key)!.sha256);
        // The same bytes the running service serves for this job.
        const original = await user.fetchBytes((await user.job(job.id)).body.thumbnailUrl!);
        expect(onRestored.data.equals(original.data)).toBe(true);
      }

      // Jobs the snapshot caught queued or processing are finished by a worker started on the restored folder.
      const unfinished = unfinishedInBackup.map((job) => job.id);
      const worker = new ChildApp('worker', env);
      try {
        await worker.waitForLine(/consuming/, 60_000);
        for (const id of unfinished) expect((await restoredUser.waitFor(id, ['completed', 'failed'], 120_000)).status).toBe('completed');
      } finally {
        await worker.stop();
      }
    } finally {
      await api.stop();
    }
  });

  it('refuses a data folder that is not empty, with a clear message, and writes nothing', async () => {
    const dir = tempDir('busy');
    fs.writeFileSync(path.join(dir, 'thumbs.db'), 'in use');
    const result = await backupCli(testEnv(dir, uniquePrefix('backup-busy')), 'restore', backupDir).done;
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/Refusing: the data folder \(DATA_DIR\) .* is not empty \(thumbs\.db\)/);
    expect(fs.readdirSync(dir)).toEqual(['thumbs.db']);
    expect(fs.readFileSync(path.join(dir, 'thumbs.db'), 'utf8')).toBe('in use');
  });

  it('refuses a tampered backup before writing anything', async () => {
    const tampered = path.join(tempDir('tampered'), 'b');
    fs.cpSync(backupDir, tampered, { recursive: true });
    const victim = completedInBackup[0].thumbnail_key;
    const file = path.join(tampered, 'files', ...victim.split('/'));
    const bytes = fs.readFileSync(file);
    bytes[bytes.length - 3] ^= 0xff; // same size, different content
    fs.writeFileSync(file, bytes);

    const dir = path.join(tempDir('target'), 'data');
    const result = await backupCli(testEnv(dir, uniquePrefix('backup-tampered')), 'restore', tampered).done;
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('do not match its manifest; nothing was written');
    expect(result.stderr).toContain(`files/${victim}: expected`);
    expect(fs.existsSync(dir)).toBe(false);
  });

  it('says what it does not copy: a MongoDB database (mongodump) and an S3 bucket (versioning)', async () => {
    const s3 = await backupCli({ ...stack.env, STORAGE_URL: 's3://thumbs-bucket?endpoint=http://127.0.0.1:9' }, 'backup', tempDir('s3'))
      .done;
    expect(s3.code).toBe(0);
    expect(s3.stdout).toContain('note: The S3 bucket is not copied: turn on bucket versioning');
    const mongo = await backupCli({ ...stack.env, DATABASE_URL: 'mongodb://127.0.0.1:9/thumbs' }, 'backup', tempDir('mongo')).done;
    expect(mongo.code).toBe(0);
    expect(mongo.stdout).toContain('note: The MongoDB database is not copied: back it up with mongodump');
    const neither = await backupCli(
      { ...stack.env, DATABASE_URL: 'mongodb://127.0.0.1:9/thumbs', STORAGE_URL: 's3://thumbs-bucket?endpoint=http://127.0.0.1:9' },
      'backup',
      tempDir('neither'),
    ).done;
    expect(neither.code).toBe(1);
    expect(neither.stderr).toMatch(/^Nothing to back up here: .*mongodump.*bucket versioning/);
  });

  it('refuses to back up into a folder that already holds something', async () => {
    const result = await backupCli(stack.env, 'backup', backupDir).done;
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/Refusing: the backup folder .* is not empty/);
  });
});
