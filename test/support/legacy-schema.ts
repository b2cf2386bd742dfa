import Database from 'better-sqlite3';
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '../..');

/** The last commit whose adapters created their tables with `CREATE TABLE IF NOT EXISTS` (before migrations). */
export const LEGACY_COMMIT = '8dc7faa30850e976a715f5cd70cec9c59038083a';

const LEGACY_FILES = ['libs/auth/src/persistence/sqlite-users.repository.ts', 'libs/jobs/src/persistence/sqlite-jobs.repository.ts'];

/**
 * The SQLite DDL of that commit, read from git (the `DDL` constant of each adapter), so a test can
 * make a database exactly as deployments made before migrations have it.
 */
export function legacyDdl(): string {
  return LEGACY_FILES.map((file) => {
    let source: string;
    try {
      source = execFileSync('git', ['show', `${LEGACY_COMMIT}:${file}`], {
        cwd: ROOT,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      });
    } catch (error) {
      throw new Error(`The migration tests read the schema before migrations from git (${LEGACY_COMMIT}); this clone lacks it`, {
        cause: error,
      });
    }
    const ddl = /const DDL = `([^`]*)`;/.exec(source)?.[1];
    if (!ddl) throw new Error(`No DDL constant in ${file} at ${LEGACY_COMMIT}`);
    return ddl;
  }).join('\n');
}

export interface LegacyRows {
  users: { id: string; email: string; password_hash: string; created_at: number; updated_at: number }[];
  jobs: Record<string, string | number | null>[];
}

/** Creates `file` with the legacy schema (as its adapters did at start) and the given rows. */
export function createLegacyDatabase(file: string, rows: LegacyRows): void {
  const db = new Database(file);
  try {
    db.pragma('journal_mode = WAL');
    db.exec(legacyDdl());
    const insertUser = db.prepare(
      'INSERT INTO users (id, email, password_hash, created_at, updated_at) VALUES (@id, @email, @password_hash, @created_at, @updated_at)',
    );
    for (const user of rows.users) insertUser.run(user);
    for (const job of rows.jobs) {
      const columns = Object.keys(job);
      db.prepare(`INSERT INTO jobs (${columns.join(', ')}) VALUES (${columns.map((column) => `@${column}`).join(', ')})`).run(job);
    }
  } finally {
    db.close();
  }
}
