import * as fs from 'node:fs';
import * as path from 'node:path';
import { AppConfig } from '../config/app-config';
import {
  assertEmptyOrAbsent,
  BACKUP_FILES_DIR,
  BACKUP_FORMAT,
  BACKUP_SECRET_FILE,
  BackupError,
  BackupManifest,
  BackupOptions,
  hashFile,
  listFiles,
  MANIFEST_FILE,
  Say,
} from './backup';

/** A manifest key: relative, "/"-separated, no empty, "." or ".." segment, no backslash. */
const SAFE_KEY = /^(?!.*(^|\/)\.{1,2}(\/|$))[^/\\\0]+(\/[^/\\\0]+)*$/;

/**
 * Restores the backup in `source` (made by `runBackup`) into the EMPTY data folder, database
 * file and storage root of `config`. Every hash and size of the manifest is checked before
 * anything is written; any difference (a changed, missing or extra file) refuses the whole restore.
 */
export async function runRestore(
  config: AppConfig,
  source: string,
  say: Say,
  options: BackupOptions = { secretInEnv: false },
): Promise<BackupManifest> {
  const dir = path.resolve(source);
  const manifest = readManifest(dir);

  // Where it goes, checked before the (slower) verification so a wrong target is said at once.
  if (manifest.database && config.database.kind !== 'sqlite') {
    throw new BackupError(
      'This backup holds a SQLite database but DATABASE_URL is MongoDB: restore MongoDB with mongorestore (docs/deploy.md).',
    );
  }
  if (manifest.files && config.storage.driver !== 'file') {
    throw new BackupError('This backup holds local files but STORAGE_URL is S3: restore a bucket from its versions (docs/deploy.md).');
  }
  const targets: { what: string; dir: string }[] = [{ what: 'the data folder (DATA_DIR)', dir: config.dataDir }];
  if (config.storage.driver === 'file' && manifest.files)
    targets.push({ what: 'the storage folder (STORAGE_URL)', dir: config.storage.root });
  for (const target of targets) assertEmptyOrAbsent(target.dir, target.what);
  if (config.database.kind === 'sqlite' && manifest.database) {
    if (config.database.path === ':memory:') throw new BackupError('DATABASE_URL is sqlite::memory:, there is nothing to restore into.');
    for (const suffix of ['', '-wal', '-shm', '-journal']) {
      if (fs.existsSync(config.database.path + suffix)) {
        throw new BackupError(
          `Refusing: the database file ${config.database.path + suffix} already exists. Restore into an empty data folder.`,
        );
      }
    }
  }

  const started = Date.now();
  await verify(dir, manifest);
  const fileCount = manifest.files?.length ?? 0;
  say(`verified: database and ${fileCount} file(s) match the manifest (${Date.now() - started} ms)`);

  fs.mkdirSync(config.dataDir, { recursive: true });
  if (manifest.database && config.database.kind === 'sqlite') {
    fs.mkdirSync(path.dirname(config.database.path), { recursive: true });
    const temp = `${config.database.path}.restoring`;
    fs.copyFileSync(path.join(dir, manifest.database.file), temp, fs.constants.COPYFILE_EXCL);
    fs.renameSync(temp, config.database.path);
    say(`database: ${config.database.path}`);
  }
  if (manifest.files && config.storage.driver === 'file') {
    for (const entry of manifest.files) {
      const destination = path.join(config.storage.root, ...entry.key.split('/'));
      fs.mkdirSync(path.dirname(destination), { recursive: true });
      fs.copyFileSync(path.join(dir, BACKUP_FILES_DIR, ...entry.key.split('/')), destination, fs.constants.COPYFILE_EXCL);
    }
    say(`files: ${fileCount} into ${config.storage.root}`);
  }
  if (manifest.secret && !options.secretInEnv) {
    fs.copyFileSync(path.join(dir, BACKUP_SECRET_FILE), path.join(config.dataDir, BACKUP_SECRET_FILE), fs.constants.COPYFILE_EXCL);
    fs.chmodSync(path.join(config.dataDir, BACKUP_SECRET_FILE), 0o600);
    say('jwt secret: restored into the data folder (sessions and signed URLs of the backup stay valid)');
  }
  for (const note of manifest.notes) say(`note (from the backup): ${note}`);
  return manifest;
}

function readManifest(dir: string): BackupManifest {
  let manifest: BackupManifest;
  try {
    manifest = JSON.parse(fs.readFileSync(path.join(dir, MANIFEST_FILE), 'utf8')) as BackupManifest;
  } catch (error) {
    throw new BackupError(`${path.join(dir, MANIFEST_FILE)} cannot be read as a backup manifest: ${(error as Error).message}`);
  }
  if (manifest?.format !== BACKUP_FORMAT) {
    throw new BackupError(
      `${path.join(dir, MANIFEST_FILE)} is backup format ${String(manifest?.format)}; this release restores format ${BACKUP_FORMAT}.`,
    );
  }
  for (const entry of manifest.files ?? []) {
    if (typeof entry.key !== 'string' || !SAFE_KEY.test(entry.key))
      throw new BackupError(`The manifest names an unsafe path: ${JSON.stringify(entry.key)}`);
  }
  return manifest;
}

/** Every file the manifest names has its size and hash, and the files folder holds nothing else. */
async function verify(dir: string, manifest: BackupManifest): Promise<void> {
  const problems: string[] = [];
  const check = async (label: string, file: string, expected: { size?: number; sha256: string }) => {
    try {
      const actual = await hashFile(file);
      if (actual.sha256 !== expected.sha256 || (expected.size !== undefined && actual.size !== expected.size)) {
        problems.push(
          `${label}: expected ${expected.size ?? '?'} bytes sha256 ${expected.sha256}, found ${actual.size} bytes sha256 ${actual.sha256}`,
        );
      }
    } catch (error) {
      problems.push(`${label}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'missing' : (error as Error).message}`);
    }
  };
  if (manifest.database) await check(manifest.database.file, path.join(dir, manifest.database.file), manifest.database);
  if (manifest.secret) await check(BACKUP_SECRET_FILE, path.join(dir, BACKUP_SECRET_FILE), manifest.secret);
  if (manifest.files) {
    const named = new Set<string>();
    for (const entry of manifest.files) {
      named.add(entry.key);
      await check(`${BACKUP_FILES_DIR}/${entry.key}`, path.join(dir, BACKUP_FILES_DIR, ...entry.key.split('/')), entry);
    }
    for (const key of listFiles(path.join(dir, BACKUP_FILES_DIR))) {
      if (!named.has(key)) problems.push(`${BACKUP_FILES_DIR}/${key}: not in the manifest`);
    }
  }
  if (problems.length > 0) {
    const shown = problems
      .slice(0, 20)
      .map((p) => `  - ${p}`)
      .join('\n');
    throw new BackupError(
      `Refusing to restore: ${problems.length} file(s) of the backup do not match its manifest; nothing was written.\n${shown}` +
        (problems.length > 20 ? `\n  … and ${problems.length - 20} more` : ''),
    );
  }
}
