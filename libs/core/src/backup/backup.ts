import Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { AppConfig } from '../config/app-config';
import { SQLITE_FILE_MODE } from '../database/sqlite-database';

/** Bumped when the layout of a backup folder changes; restore refuses formats it does not know. */
export const BACKUP_FORMAT = 1;
export const MANIFEST_FILE = 'manifest.json';
export const BACKUP_DATABASE_FILE = 'thumbs.db';
export const BACKUP_FILES_DIR = 'files';
export const BACKUP_SECRET_FILE = 'jwt-secret';

export interface ManifestEntry {
  /** Path relative to the storage root (the storage key), "/"-separated. */
  key: string;
  size: number;
  sha256: string;
}

/** manifest.json of a backup folder: what restore checks before it writes anything. */
export interface BackupManifest {
  format: number;
  thumbsVersion: string;
  createdAt: string;
  /** The SQLite snapshot (online backup API), or null when the database is MongoDB (not copied). */
  database: { file: string; size: number; sha256: string; migrations: string[] } | null;
  /** The stored files copied after the snapshot, or null when storage is S3 (not copied). */
  files: ManifestEntry[] | null;
  /** Keys the snapshot's rows name that were gone when the files were copied (deleted meanwhile). */
  missing: string[];
  /** The data folder's generated JWT secret (so sessions and signed URLs stay valid), when there is one. */
  secret: { file: string; sha256: string } | null;
  notes: string[];
}

export type Say = (line: string) => void;

export interface BackupOptions {
  /** JWT_SECRET is set in the environment: the data folder's secret file is neither copied nor restored. */
  secretInEnv: boolean;
}

/** Columns of the jobs table that may hold storage keys (`original_key`, `thumbnail_key`, `preview_key`…). */
const KEY_COLUMN = /_key$/;
/** What a storage key looks like (StorageKeys: `uploads/<id>`, `processed/<id>/…`); other `*_key` columns (`name_key`) are not files. */
const STORAGE_KEY = /^(uploads|processed)\//;

/**
 * A consistent backup of a running service into `target` (absent or empty): first the SQLite
 * database through SQLite's online backup API (one step, so it is one read transaction: a
 * snapshot, while the api and workers keep writing), then every stored file of the local
 * storage root with its SHA-256. Files come after the snapshot, so every file its rows name is
 * there unless it was deleted meanwhile (noted in `missing`); files newer than the snapshot are
 * copied too and simply unreferenced. MongoDB and S3 are not copied (said in `notes`).
 */
export async function runBackup(
  config: AppConfig,
  target: string,
  say: Say,
  options: BackupOptions = { secretInEnv: false },
): Promise<BackupManifest> {
  const dir = path.resolve(target);
  assertEmptyOrAbsent(dir, 'the backup folder');
  fs.mkdirSync(dir, { recursive: true });
  const notes: string[] = [];
  const manifest: BackupManifest = {
    format: BACKUP_FORMAT,
    thumbsVersion: thumbsVersion(),
    createdAt: new Date().toISOString(),
    database: null,
    files: null,
    missing: [],
    secret: null,
    notes,
  };

  let referenced = new Set<string>();
  if (config.database.kind === 'sqlite') {
    if (!fs.existsSync(config.database.path))
      throw new BackupError(`No database at ${config.database.path} (DATABASE_URL): nothing to back up.`);
    const file = path.join(dir, BACKUP_DATABASE_FILE);
    const started = Date.now();
    await snapshotSqlite(config.database.path, file);
    const { migrations, keys } = readSnapshot(file);
    referenced = keys;
    const { size, sha256 } = await hashFile(file);
    manifest.database = { file: BACKUP_DATABASE_FILE, size, sha256, migrations };
    say(`database: ${config.database.path} → ${file} (${size} bytes, ${Date.now() - started} ms, snapshot at ${new Date().toISOString()})`);
  } else {
    notes.push('The MongoDB database is not copied: back it up with mongodump (docs/deploy.md).');
  }

  if (config.storage.driver === 'file') {
    const started = Date.now();
    const copied = await copyStorage(config.storage.root, path.join(dir, BACKUP_FILES_DIR));
    manifest.files = copied.files;
    const have = new Set(copied.files.map((entry) => entry.key));
    manifest.missing = [...referenced].filter((key) => !have.has(key)).sort();
    const bytes = copied.files.reduce((sum, entry) => sum + entry.size, 0);
    say(`files: ${copied.files.length} from ${config.storage.root} (${bytes} bytes, ${Date.now() - started} ms)`);
    if (copied.vanished.length > 0) say(`noted: ${copied.vanished.length} file(s) deleted while they were being copied`);
    if (manifest.missing.length > 0) {
      notes.push(
        `${manifest.missing.length} file(s) named by the snapshot were deleted before they could be copied (their jobs were deleted meanwhile).`,
      );
    }
  } else {
    notes.push('The S3 bucket is not copied: turn on bucket versioning (and replication) instead (docs/deploy.md).');
  }

  const secretFile = path.join(config.dataDir, BACKUP_SECRET_FILE);
  if (!options.secretInEnv && fs.existsSync(secretFile)) {
    fs.copyFileSync(secretFile, path.join(dir, BACKUP_SECRET_FILE));
    fs.chmodSync(path.join(dir, BACKUP_SECRET_FILE), 0o600);
    manifest.secret = { file: BACKUP_SECRET_FILE, sha256: (await hashFile(path.join(dir, BACKUP_SECRET_FILE))).sha256 };
  }

  if (manifest.database === null && manifest.files === null) {
    throw new BackupError(`Nothing to back up here: ${notes.join(' ')}`);
  }
  for (const note of notes) say(`note: ${note}`);
  fs.writeFileSync(path.join(dir, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
  say(`manifest: ${path.join(dir, MANIFEST_FILE)}`);
  return manifest;
}

/** A refusal with a message for the operator (exit code 1, no stack trace). */
export class BackupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BackupError';
  }
}

/**
 * SQLite's online backup of `source` into `file`. The whole database is copied in one step
 * (one read transaction), so concurrent writers neither restart nor tear it; in WAL mode they
 * are not blocked either.
 */
async function snapshotSqlite(source: string, file: string): Promise<void> {
  const db = new Database(source, { fileMustExist: true, timeout: 10_000 });
  try {
    // Made 0640 first, as the database itself (SQLite would make it world-readable); restore copies the mode.
    fs.closeSync(fs.openSync(file, 'wx', SQLITE_FILE_MODE));
    await db.backup(file, { progress: () => 0x7fffffff });
  } finally {
    db.close();
  }
  // The copy keeps the source's WAL flag; a single self-contained file is what a backup wants.
  const copy = new Database(file);
  try {
    copy.pragma('journal_mode = DELETE');
    const check = copy.pragma('quick_check', { simple: true });
    if (check !== 'ok') throw new BackupError(`The database snapshot failed its integrity check: ${String(check)}`);
  } finally {
    copy.close();
  }
}

/** The migrations the snapshot has had and every storage key its jobs rows name. */
function readSnapshot(file: string): { migrations: string[]; keys: Set<string> } {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const hasTable = (name: string) => db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(name) !== undefined;
    const migrations = hasTable('schema_migrations')
      ? (db.prepare('SELECT id FROM schema_migrations ORDER BY id').all() as { id: string }[]).map((row) => row.id)
      : [];
    const keys = new Set<string>();
    if (hasTable('jobs')) {
      const columns = (db.prepare('PRAGMA table_info(jobs)').all() as { name: string }[])
        .map((c) => c.name)
        .filter((n) => KEY_COLUMN.test(n));
      if (columns.length > 0) {
        for (const row of db.prepare(`SELECT ${columns.join(', ')} FROM jobs`).iterate() as Iterable<Record<string, unknown>>) {
          for (const column of columns) {
            const value = row[column];
            if (typeof value === 'string' && STORAGE_KEY.test(value)) keys.add(value);
          }
        }
      }
    }
    return { migrations, keys };
  } finally {
    db.close();
  }
}

/**
 * Copies every file under `root` (not the driver's `.tmp` of half-written uploads, nor anything
 * named with a leading dot: no key is) into `target`, hashing while copying. The driver renames
 * finished files into place, so a file is copied whole or, when deleted meanwhile, not at all.
 */
async function copyStorage(root: string, target: string): Promise<{ files: ManifestEntry[]; vanished: string[] }> {
  const files: ManifestEntry[] = [];
  const vanished: string[] = [];
  fs.mkdirSync(target, { recursive: true });
  for (const key of listFiles(root)) {
    const destination = path.join(target, ...key.split('/'));
    fs.mkdirSync(path.dirname(destination), { recursive: true });
    try {
      files.push({ key, ...(await copyWithHash(path.join(root, ...key.split('/')), destination)) });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      fs.rmSync(destination, { force: true });
      vanished.push(key);
    }
  }
  return { files: files.sort((a, b) => a.key.localeCompare(b.key)), vanished };
}

/** Relative "/"-separated paths of the regular files under `root`, dot-named entries skipped. */
export function listFiles(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string, prefix: string) => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw error;
    }
    for (const entry of entries) {
      if (entry.name.startsWith('.')) continue;
      const key = prefix ? `${prefix}/${entry.name}` : entry.name;
      if (entry.isDirectory()) walk(path.join(dir, entry.name), key);
      else if (entry.isFile()) out.push(key);
    }
  };
  walk(root, '');
  return out;
}

async function copyWithHash(source: string, destination: string): Promise<{ size: number; sha256: string }> {
  const hash = createHash('sha256');
  let size = 0;
  const tap = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      hash.update(chunk);
      size += chunk.length;
      callback(null, chunk);
    },
  });
  const handle = await fs.promises.open(source, 'r');
  await pipeline(handle.createReadStream(), tap, fs.createWriteStream(destination, { mode: 0o640 }));
  return { size, sha256: hash.digest('hex') };
}

export async function hashFile(file: string): Promise<{ size: number; sha256: string }> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of fs.createReadStream(file) as AsyncIterable<Buffer>) {
    hash.update(chunk);
    size += chunk.length;
  }
  return { size, sha256: hash.digest('hex') };
}

/** Refuses a folder holding anything (a backup or a restore never mixes with what is there). */
export function assertEmptyOrAbsent(dir: string, what: string): void {
  let entries: string[];
  try {
    entries = fs.readdirSync(dir);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return;
    if (code === 'ENOTDIR') throw new BackupError(`${what} ${dir} is a file, not a folder.`);
    throw error;
  }
  if (entries.length > 0) {
    const shown = entries.slice(0, 5).join(', ') + (entries.length > 5 ? ', …' : '');
    throw new BackupError(`Refusing: ${what} ${dir} is not empty (${shown}). Use an empty or new folder.`);
  }
}

/** The release's version: npm's when run through `npm run`, else the package.json of the working folder. */
function thumbsVersion(): string {
  if (process.env.npm_package_name === 'thumbs' && process.env.npm_package_version) return process.env.npm_package_version;
  try {
    const pkg = JSON.parse(fs.readFileSync(path.join(process.cwd(), 'package.json'), 'utf8')) as { name?: string; version?: string };
    if (pkg.name === 'thumbs' && pkg.version) return pkg.version;
  } catch {
    // not run from the project folder
  }
  return 'unknown';
}
