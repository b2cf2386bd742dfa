import Database from 'better-sqlite3';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ServiceUnavailableError } from '../errors/domain-errors';

/** Prepared statements kept per connection; past this the oldest is dropped (SQL built for n ids varies). */
const MAX_CACHED_STATEMENTS = 256;

/** SQLite error codes that mean "the database cannot be used right now", not "your query is wrong". */
const UNAVAILABLE_CODES = /^SQLITE_(BUSY|LOCKED|CANTOPEN|IOERR|FULL|READONLY|NOTADB|CORRUPT|PROTOCOL)/;

/**
 * The embedded database: one better-sqlite3 handle per process, in WAL mode so the api and the
 * worker processes can read while the other writes; writers wait up to `busyTimeoutMs` for the lock.
 * Adapters own their tables and create them with `migrate`.
 */
export class SqliteDatabase {
  readonly db: Database.Database;
  private readonly statements = new Map<string, Database.Statement>();

  constructor(
    readonly file: string,
    private readonly busyTimeoutMs = 3000,
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

  /**
   * The prepared statement for `sql`, compiled on first use and reused after: compiling costs
   * more than running the small statements the adapters use, and they run several times per job.
   */
  prepare(sql: string): Database.Statement {
    let statement = this.statements.get(sql);
    if (!statement) {
      if (this.statements.size >= MAX_CACHED_STATEMENTS) this.statements.delete(this.statements.keys().next().value!);
      statement = this.db.prepare(sql);
      this.statements.set(sql, statement);
    }
    return statement;
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
      this.prepare(`PRAGMA busy_timeout = ${Math.trunc(timeoutMs)}`).get();
      try {
        this.prepare('BEGIN IMMEDIATE').run();
        this.prepare('ROLLBACK').run();
      } finally {
        this.prepare(`PRAGMA busy_timeout = ${Math.trunc(this.busyTimeoutMs)}`).get();
      }
    });
  }

  close(): void {
    this.statements.clear();
    if (this.db.open) this.db.close();
  }
}
