import Database from 'better-sqlite3';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadConfig } from '../config/load-config';
import { BackupError, BackupManifest, runBackup } from './backup';
import { runRestore } from './restore';

/** Real SQLite files and folders; the e2e suite (test/backup) does the same against the running service. */
describe('runBackup / runRestore', () => {
  let root: string;
  const lines: string[] = [];
  const say = (line: string) => lines.push(line);
  const configFor = (dir: string, extra: Record<string, string> = {}) =>
    loadConfig({
      NODE_ENV: 'test',
      DATA_DIR: dir,
      DATABASE_URL: `sqlite:${path.join(dir, 'thumbs.db')}`,
      STORAGE_URL: `file:${path.join(dir, 'files')}`,
      JWT_SECRET: 'x'.repeat(40),
      ...extra,
    });
  const write = (file: string, data: string) => {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, data);
  };

  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'thumbs-backup-spec-'));
    lines.length = 0;
    const data = path.join(root, 'data');
    fs.mkdirSync(data);
    const db = new Database(path.join(data, 'thumbs.db'));
    db.pragma('journal_mode = WAL');
    db.exec(
      // name_key: a *_key column that is not a storage key (the library's lower-cased file name).
      'CREATE TABLE jobs (id TEXT, original_key TEXT NOT NULL, thumbnail_key TEXT, name_key TEXT); CREATE TABLE schema_migrations (id TEXT, applied_at INTEGER)',
    );
    db.prepare('INSERT INTO schema_migrations VALUES (?, ?)').run('jobs/0001-init', 1);
    db.prepare('INSERT INTO jobs VALUES (?, ?, ?, ?)').run('a', 'uploads/a', 'processed/a/thumb.jpg', 'photo.jpg');
    // Job b was deleted (its file removed) between the snapshot and the copy: its row names a file that is gone.
    db.prepare('INSERT INTO jobs VALUES (?, ?, ?, ?)').run('b', 'uploads/b', null, 'logo.png');
    db.close();
    write(path.join(data, 'files/uploads/a'), 'original a');
    write(path.join(data, 'files/processed/a/thumb.jpg'), 'thumb a');
    write(path.join(data, 'files/.tmp/half.part'), 'half-written');
  });

  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  it('notes a file the snapshot names but that is gone, skips half-written ones, and restores the rest', async () => {
    const backup = path.join(root, 'backup');
    const manifest = await runBackup(configFor(path.join(root, 'data')), backup, say, { secretInEnv: true });
    expect(manifest.files!.map((entry) => entry.key)).toEqual(['processed/a/thumb.jpg', 'uploads/a']);
    expect(manifest.missing).toEqual(['uploads/b']);
    expect(manifest.notes.join(' ')).toMatch(/1 file\(s\) named by the snapshot were deleted/);
    expect(manifest.database!.migrations).toEqual(['jobs/0001-init']);
    // One self-contained file: no -wal beside it.
    expect(fs.readdirSync(backup).sort()).toEqual(['files', 'manifest.json', 'thumbs.db']);
    // Not world-readable, as the database it copies.
    expect(fs.statSync(path.join(backup, 'thumbs.db')).mode & 0o777).toBe(0o640);

    const target = path.join(root, 'restored');
    await runRestore(configFor(target), backup, say, { secretInEnv: true });
    expect(fs.readFileSync(path.join(target, 'files/processed/a/thumb.jpg'), 'utf8')).toBe('thumb a');
    expect(fs.statSync(path.join(target, 'thumbs.db')).mode & 0o777).toBe(0o640);
    const db = new Database(path.join(target, 'thumbs.db'), { readonly: true });
    expect(db.prepare('SELECT id FROM jobs ORDER BY id').all()).toEqual([{ id: 'a' }, { id: 'b' }]);
    db.close();
  });

  it('refuses a file the manifest does not name, a path that climbs out, and a non-empty storage folder', async () => {
    const backup = path.join(root, 'backup');
    await runBackup(configFor(path.join(root, 'data')), backup, say, { secretInEnv: true });

    write(path.join(backup, 'files/processed/evil.jpg'), 'slipped in');
    const target = path.join(root, 'restored');
    await expect(runRestore(configFor(target), backup, say, { secretInEnv: true })).rejects.toThrow(
      /files\/processed\/evil\.jpg: not in the manifest/,
    );
    expect(fs.existsSync(target)).toBe(false);
    fs.rmSync(path.join(backup, 'files/processed/evil.jpg'));

    const manifestFile = path.join(backup, 'manifest.json');
    const manifest = JSON.parse(fs.readFileSync(manifestFile, 'utf8')) as BackupManifest;
    fs.writeFileSync(
      manifestFile,
      JSON.stringify({ ...manifest, files: [...manifest.files!, { key: '../../etc/x', size: 1, sha256: '0' }] }),
    );
    await expect(runRestore(configFor(target), backup, say, { secretInEnv: true })).rejects.toThrow(/unsafe path: "..\/..\/etc\/x"/);
    fs.writeFileSync(manifestFile, JSON.stringify(manifest));

    // The storage folder lives outside DATA_DIR here and already holds a file.
    const storage = path.join(root, 'elsewhere');
    write(path.join(storage, 'uploads/z'), 'z');
    const error = await runRestore(configFor(target, { STORAGE_URL: `file:${storage}` }), backup, say, { secretInEnv: true }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(BackupError);
    expect((error as Error).message).toMatch(/the storage folder \(STORAGE_URL\) .* is not empty \(uploads\)/);
  });

  it('copies and restores the data folder’s generated JWT secret only when JWT_SECRET is not set', async () => {
    write(path.join(root, 'data/jwt-secret'), 's'.repeat(64));
    const backup = path.join(root, 'backup');
    const manifest = await runBackup(configFor(path.join(root, 'data')), backup, say, { secretInEnv: false });
    expect(manifest.secret).toMatchObject({ file: 'jwt-secret' });
    const target = path.join(root, 'restored');
    await runRestore(configFor(target), backup, say, { secretInEnv: false });
    expect(fs.readFileSync(path.join(target, 'jwt-secret'), 'utf8')).toBe('s'.repeat(64));
    expect(fs.statSync(path.join(target, 'jwt-secret')).mode & 0o777).toBe(0o600);
  });
});
