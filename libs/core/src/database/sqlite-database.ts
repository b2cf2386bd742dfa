import { Logger } from '@nestjs/common';
import Database from 'better-sqlite3';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ServiceUnavailableError } from '../errors/domain-errors';
import { checkMigrations, Migration, pendingMigrations } from './migrations';

/** A step of a lib's SQLite schema: SQL (several statements allowed), or a function for what SQL alone cannot do. */
export type SqliteMigration = Migration<string | ((db: Database.Database) => void)>;

/** How long a process waits for another one that is migrating the same file. */
const MIGRATION_LOCK_WAIT_MS = 60_000;

/** Prepared statements kept per connection; past this the oldest is dropped (SQL built for n ids varies). */
const MAX_CACHED_STATEMENTS = 256;

/**
 * How long one attempt may wait for the write lock inside SQLite. better-sqlite3 is synchronous, so
 * this wait blocks the event loop: it stays a few milliseconds, and longer waits happen between
 * attempts, off the loop (see `SqliteDatabase.run`).
 */
export const SQLITE_SYNC_BUSY_MS = 5;

/** Pause between attempts: doubles from the first to the last, with jitter so processes do not retry in step. */
const RETRY_FIRST_MS = 2;
const RETRY_MAX_MS = 50;

/**
 * Permissions of the database file, as of the stored files (0640): SQLite would create it 0644
 * (world-readable under the usual umask), and it makes the -wal and -shm files with the database
 * file's permissions.
 */
export const SQLITE_FILE_MODE = 0o640;
/** The permission bits of users outside the file's owner and group. */
const OTHERS = 0o007;

/** Another connection holds the lock (SQLITE_BUSY and its extended codes: _SNAPSHOT, _RECOVERY, _TIMEOUT). */
const BUSY_CODE = /^SQLITE_BUSY/;

/** SQLite error codes that mean "the database cannot be used right now", not "your query is wrong". */
const UNAVAILABLE_CODES = /^SQLITE_(BUSY|LOCKED|CANTOPEN|IOERR|FULL|READONLY|NOTADB|CORRUPT|PROTOCOL)/;

/**
 * The embedded database: one better-sqlite3 handle per process, in WAL mode so the api and the
 * worker processes can read while the other writes; writers wait up to `busyTimeoutMs` in all for
 * the lock, in short synchronous attempts with asynchronous pauses between them, so a process
 * holding the lock never freezes this one's event loop. Each lib's adapters bring their tables up
 * to date with `migrate` before first use.
 */
export class SqliteDatabase {
  readonly db: Database.Database;
  private readonly statements = new Map<string, Database.Statement>();
  private readonly logger = new Logger('Migrations');
  /** Calls waiting for the lock, in the order they were made (see `run`). */
  private readonly waiting: WaitingCall[] = [];

  constructor(
    readonly file: string,
    private readonly busyTimeoutMs = 3000,
  ) {
    if (file !== ':memory:' && file !== '') {
      fs.mkdirSync(path.dirname(file), { recursive: true });
      restrictFileModes(file, new Logger('SqliteDatabase'));
    }
    // Opening waits the whole timeout at once (switching a new file to WAL takes its lock): this is
    // start-up, before any request; afterwards each attempt waits SQLITE_SYNC_BUSY_MS at most.
    this.db = new Database(file, { timeout: busyTimeoutMs });
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('foreign_keys = ON');
    this.db.pragma(`busy_timeout = ${SQLITE_SYNC_BUSY_MS}`);
  }

  /**
   * Applies a lib's migrations that this database has not had yet, in order, in one transaction,
   * and records them in `schema_migrations`; resolves the ids it applied. Several processes may
   * start at once: each takes the write lock (`BEGIN IMMEDIATE`, waiting up to a minute for a
   * process that is migrating) and re-reads what is applied under it, so every migration runs
   * exactly once. Migrations this code does not know (a newer release ran) are left alone.
   */
  migrate(lib: string, migrations: readonly SqliteMigration[]): string[] {
    checkMigrations(lib, migrations);
    const applied: { id: string; ms: number }[] = [];
    // Synchronous on purpose: adapters migrate at start-up (onModuleInit), before any request.
    this.db.pragma(`busy_timeout = ${MIGRATION_LOCK_WAIT_MS}`);
    try {
      if (pendingMigrations(migrations, this.appliedMigrations()).length === 0) return [];
      this.guard(() =>
        this.db
          .transaction(() => {
            this.db.exec(MIGRATIONS_TABLE);
            for (const migration of pendingMigrations(migrations, this.appliedMigrations())) {
              const started = Date.now();
              if (typeof migration.up === 'string') this.db.exec(migration.up);
              else migration.up(this.db);
              this.db.prepare('INSERT INTO schema_migrations (id, applied_at) VALUES (?, ?)').run(migration.id, Date.now());
              applied.push({ id: migration.id, ms: Date.now() - started });
            }
          })
          .immediate(),
      );
    } finally {
      this.db.pragma(`busy_timeout = ${SQLITE_SYNC_BUSY_MS}`);
    }
    if (applied.length > 0) {
      // Statements compiled before the change may name columns that moved; compile them afresh.
      this.statements.clear();
      this.logger.log(`Applied ${applied.map(({ id, ms }) => `${id} (${ms} ms)`).join(', ')} to ${this.file}`);
    }
    return applied.map(({ id }) => id);
  }

  /** Ids of the migrations this database has had. */
  appliedMigrations(): Set<string> {
    return this.guard(() => {
      const table = this.db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'").get();
      if (!table) return new Set<string>();
      return new Set((this.db.prepare('SELECT id FROM schema_migrations').all() as { id: string }[]).map((row) => row.id));
    });
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

  /**
   * Runs `work` (better-sqlite3 calls: one statement, or one transaction) and resolves with its
   * result; "database unavailable" failures reject with ServiceUnavailableError. Every adapter
   * call goes through here.
   *
   * While another connection holds the lock, an attempt fails with SQLITE_BUSY after at most
   * SQLITE_SYNC_BUSY_MS; the call then waits in line (`waiting`) and is run again after a pause
   * (setTimeout, 2 ms doubling to 50 ms, jittered) until `waitMs` (the busy timeout) has passed
   * since it was made, then rejects with ServiceUnavailableError.
   *
   * Calls take effect in the order they were made, as they did when the wait blocked the process:
   * while any call waits for the lock, every new call (a read too) joins the line behind it instead
   * of trying first, and only the call at the front tries again. Without that, a call that met the
   * lock was overtaken by later ones that did not (a read missing an earlier write, two writes
   * landing the other way round). It also keeps a crowd of waiting requests down to one short
   * attempt per pause. A call still in line when its time is up rejects without trying.
   *
   * Retrying is safe because a busy failure leaves nothing applied: a single statement did not run,
   * and a transaction (better-sqlite3's `transaction`, which rolls back whatever failed inside it,
   * COMMIT included) is retried whole from its BEGIN. If a transaction is still open after the
   * failure (one begun by hand), nothing is retried.
   */
  run<T>(work: () => T, waitMs = this.busyTimeoutMs): Promise<T> {
    const deadline = performance.now() + waitMs;
    if (this.waiting.length === 0) {
      const outcome = this.attempt(work);
      if (outcome.done) return outcome.failed ? Promise.reject(outcome.error) : Promise.resolve(outcome.value);
    }
    return new Promise<T>((resolve, reject) => {
      const call: WaitingCall = { work, deadline, resolve: resolve as (value: unknown) => void, reject };
      this.waiting.push(call);
      // Only the front call tries again; one behind it whose time runs out leaves the line.
      call.expiry = setTimeout(
        () => {
          const index = this.waiting.indexOf(call);
          if (index <= 0) return;
          this.waiting.splice(index, 1);
          reject(this.unavailable(Object.assign(new Error('database is locked'), { code: 'SQLITE_BUSY' })));
        },
        Math.max(0, deadline - performance.now()),
      );
      // The first in line met the lock just now: wait a pause. Otherwise the front call is already retrying.
      if (this.waiting.length === 1) this.retryLater(RETRY_FIRST_MS);
    });
  }

  /** One synchronous try of `work`; `done: false` when another connection holds the lock. */
  private attempt<T>(work: () => T): Attempt<T> {
    try {
      return { done: true, failed: false, value: work() };
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      if (typeof code === 'string' && BUSY_CODE.test(code) && !this.db.inTransaction) return { done: false, error };
      return { done: true, failed: true, error: this.unavailable(error) };
    }
  }

  /** Tries the calls in line, front first, after a pause of about `pause` ms (jittered, doubling up to RETRY_MAX_MS). */
  private retryLater(pause: number): void {
    const front = this.waiting[0];
    if (!front) return;
    const left = front.deadline - performance.now();
    setTimeout(() => this.drain(pause), Math.max(0, Math.min(left, pause / 2 + Math.random() * pause)));
  }

  /** Runs the calls in line in order until one meets the lock again (then pauses) or the line is empty. */
  private drain(pause: number): void {
    while (this.waiting.length > 0) {
      const call = this.waiting[0];
      const outcome = this.attempt(call.work);
      if (!outcome.done) {
        if (performance.now() < call.deadline) return this.retryLater(Math.min(pause * 2, RETRY_MAX_MS));
        this.settle(call);
        call.reject(this.unavailable(outcome.error));
        // The lock is still held: the next in line waits a pause too.
        return this.retryLater(pause);
      }
      this.settle(call);
      if (outcome.failed) call.reject(outcome.error);
      else call.resolve(outcome.value);
      // The next call tries at once: the lock was free a moment ago.
      pause = RETRY_FIRST_MS;
    }
  }

  private settle(call: WaitingCall): void {
    this.waiting.shift();
    clearTimeout(call.expiry);
  }

  /** `error` as `guard` turns it (ServiceUnavailableError for "database unavailable" codes). */
  private unavailable(error: unknown): Error {
    try {
      return this.guard(() => rethrow(error));
    } catch (converted) {
      // better-sqlite3 throws SqliteError, an Error (though not always of this realm under Jest: no instanceof).
      return converted as Error;
    }
  }

  /**
   * The first row of a query. A statement that writes (`UPDATE … RETURNING`) is stepped to its end
   * with `all`: better-sqlite3's `get` stops after the first row and resets the statement, and a
   * commit that fails there (a full disk, a deferred constraint) is then never reported, so the
   * caller got the changed row back while the change was rolled back.
   */
  get<Row>(sql: string, ...params: unknown[]): Promise<Row | undefined> {
    return this.run(() => {
      const statement = this.prepare(sql);
      return (statement.readonly ? statement.get(...params) : statement.all(...params)[0]) as Row | undefined;
    });
  }

  /** Every row of a query. */
  all<Row>(sql: string, ...params: unknown[]): Promise<Row[]> {
    return this.run(() => this.prepare(sql).all(...params) as Row[]);
  }

  /** Runs a statement that returns no rows; resolves how many rows it changed. */
  async execute(sql: string, ...params: unknown[]): Promise<number> {
    return (await this.run(() => this.prepare(sql).run(...params))).changes;
  }

  /** Runs `work` in one transaction; `immediate` takes the write lock at its start (read-then-write transactions). */
  transaction<T>(work: () => T, { immediate = false } = {}): Promise<T> {
    return this.run(() => {
      const transaction = this.db.transaction(work);
      return immediate ? transaction.immediate() : transaction();
    });
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
  ping(timeoutMs = 250): Promise<void> {
    return this.run(() => {
      this.prepare('BEGIN IMMEDIATE').run();
      this.prepare('ROLLBACK').run();
    }, timeoutMs);
  }

  close(): void {
    this.statements.clear();
    if (this.db.open) this.db.close();
  }
}

const MIGRATIONS_TABLE = `
CREATE TABLE IF NOT EXISTS schema_migrations (
  id         TEXT PRIMARY KEY,
  applied_at INTEGER NOT NULL
) WITHOUT ROWID;`;

type Attempt<T> = { done: true; failed: false; value: T } | { done: true; failed: true; error: Error } | { done: false; error: unknown };

/** A call waiting in line for the write lock. */
interface WaitingCall {
  work: () => unknown;
  /** performance.now() past which it answers 503. */
  deadline: number;
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
  expiry?: NodeJS.Timeout;
}

function rethrow(error: unknown): never {
  throw error;
}

/**
 * Creates the database file with SQLITE_FILE_MODE when there is none yet (SQLite takes an empty
 * file for a new database), and takes away what is more open than that from an existing one and
 * its -wal, -shm and -journal files what other users may do (made by an earlier release, or restored from a copy).
 */
function restrictFileModes(file: string, logger: Logger): void {
  try {
    fs.closeSync(fs.openSync(file, 'wx', SQLITE_FILE_MODE));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  for (const name of [file, `${file}-wal`, `${file}-shm`, `${file}-journal`]) {
    let mode: number;
    try {
      mode = fs.statSync(name).mode & 0o777;
    } catch {
      continue; // not there
    }
    // Only what others may do is taken away: a group given write on purpose (api and worker as two
    // users of one group) keeps it.
    if ((mode & OTHERS) === 0) continue;
    try {
      fs.chmodSync(name, mode & ~OTHERS);
      logger.log(`${name} was open to other users (mode ${mode.toString(8)}): now ${(mode & ~OTHERS).toString(8)}`);
    } catch (error) {
      logger.warn(`${name} is open to other users (mode ${mode.toString(8)}) and could not be changed: ${(error as Error).message}`);
    }
  }
}
