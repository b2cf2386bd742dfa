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
  /** Settles when the last call that met the lock is done retrying (see `run`). */
  private lockWaiters: Promise<void> = Promise.resolve();

  constructor(
    readonly file: string,
    private readonly busyTimeoutMs = 3000,
  ) {
    if (file !== ':memory:') fs.mkdirSync(path.dirname(file), { recursive: true });
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
   * SQLITE_SYNC_BUSY_MS; `work` is then run again after a pause (setTimeout, 2 ms doubling to 50 ms,
   * jittered) until `waitMs` (the busy timeout) has passed since the first attempt. Calls that met
   * the lock retry one at a time, in order (the others wait their turn without trying), so a crowd
   * of waiting requests costs the event loop one short attempt per pause, not one each. Retrying is
   * safe because a busy failure leaves nothing applied: a single statement did not run, and a
   * transaction (better-sqlite3's `transaction`, which rolls back whatever failed inside it,
   * COMMIT included) is retried whole from its BEGIN. If a transaction is still open after the
   * failure (one begun by hand), nothing is retried.
   */
  async run<T>(work: () => T, waitMs = this.busyTimeoutMs): Promise<T> {
    const deadline = performance.now() + waitMs;
    const attempt = (): { ok: true; value: T } | { ok: false; error: unknown } => {
      try {
        return { ok: true, value: work() };
      } catch (error) {
        const code = (error as { code?: unknown }).code;
        if (typeof code === 'string' && BUSY_CODE.test(code) && !this.db.inTransaction) return { ok: false, error };
        return this.guard(() => rethrow(error));
      }
    };
    let outcome = attempt();
    if (outcome.ok) return outcome.value;
    // Busy: wait for the calls that met the lock before this one, then retry with backoff.
    const before = this.lockWaiters;
    let done!: () => void;
    this.lockWaiters = new Promise<void>((resolve) => (done = resolve));
    try {
      const left = deadline - performance.now();
      if (left > 0) {
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([before, new Promise<void>((resolve) => (timer = setTimeout(resolve, left)))]);
        clearTimeout(timer);
      }
      for (let pause = RETRY_FIRST_MS; ; pause = Math.min(pause * 2, RETRY_MAX_MS)) {
        outcome = attempt();
        if (outcome.ok) return outcome.value;
        const left = deadline - performance.now();
        if (left <= 0) return this.guard(() => rethrow((outcome as { error: unknown }).error));
        await delay(Math.min(left, pause / 2 + Math.random() * pause));
      }
    } finally {
      done();
    }
  }

  /** The first row of a query (`run` of a prepared statement's `get`). */
  get<Row>(sql: string, ...params: unknown[]): Promise<Row | undefined> {
    return this.run(() => this.prepare(sql).get(...params) as Row | undefined);
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

const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function rethrow(error: unknown): never {
  throw error;
}
