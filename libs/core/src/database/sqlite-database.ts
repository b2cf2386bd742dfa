import Database from 'better-sqlite3';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ServiceUnavailableError } from '../errors/domain-errors';

/** SQLite error codes that mean "the database cannot be used right now", not "your query is wrong". */
const UNAVAILABLE_CODES = /^SQLITE_(BUSY|LOCKED|CANTOPEN|IOERR|FULL|READONLY|NOTADB|CORRUPT|PROTOCOL)/;

/**
 * The embedded database: one better-sqlite3 handle per process, in WAL mode so the api and the
 * worker processes can read while the other writes; writers wait up to `busyTimeoutMs` for the lock.
 * Adapters own their tables and create them with `migrate`.
 */
export class SqliteDatabase {
  readonly db: Database.Database;

  constructor(
    readonly file: string,
    busyTimeoutMs = 3000,
  ) {
    if (file !== ':memory:') fs.mkdirSync(path.dirname(file), { recursive: true });
    this.db = new Database(file, { timeout: busyTimeoutMs });
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('foreign_keys = ON');
  }

  /** Runs idempotent DDL (CREATE … IF NOT EXISTS) in one transaction. */
  migrate(ddl: string): void {
    this.guard(() => this.db.transaction(() => this.db.exec(ddl)).immediate());
  }

  /** Runs `work`, turning "database unavailable" failures into ServiceUnavailableError. */
  guard<T>(work: () => T): T {
    try {
      return work();
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      if (typeof code === 'string' && UNAVAILABLE_CODES.test(code)) {
        throw new ServiceUnavailableError(`The database is unavailable right now (${code}). Try again shortly.`, 'database');
      }
      throw error;
    }
  }

  /**
   * Checks the database can take a write right now (a read alone would pass while another process
   * holds the write lock), waiting at most `timeoutMs` for the lock instead of the usual timeout.
   */
  ping(timeoutMs = 250): void {
    this.guard(() => {
      const previous = this.db.pragma('busy_timeout', { simple: true }) as number;
      this.db.pragma(`busy_timeout = ${timeoutMs}`);
      try {
        this.db.exec('BEGIN IMMEDIATE');
        this.db.exec('ROLLBACK');
      } finally {
        this.db.pragma(`busy_timeout = ${previous}`);
      }
    });
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}
