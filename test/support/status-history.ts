import Database from 'better-sqlite3';
import type { JobStatus } from '@app/shared';

export interface StatusChange {
  seq: number;
  jobId: string;
  status: JobStatus;
  at: number;
}

/**
 * Records every status a job takes, straight from the SQLite file the apps share: AFTER INSERT
 * and AFTER UPDATE OF status triggers append to an audit table. The history is what the database
 * really went through, not what the code says it did.
 */
export class StatusHistory {
  private readonly db: Database.Database;

  constructor(file: string) {
    this.db = new Database(file, { timeout: 5000 });
    this.db.pragma('journal_mode = WAL');
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS test_status_history (
        seq INTEGER PRIMARY KEY AUTOINCREMENT, job_id TEXT NOT NULL, status TEXT NOT NULL,
        at INTEGER NOT NULL DEFAULT (CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)));
      CREATE TRIGGER IF NOT EXISTS test_job_inserted AFTER INSERT ON jobs
        BEGIN INSERT INTO test_status_history (job_id, status) VALUES (NEW.id, NEW.status); END;
      CREATE TRIGGER IF NOT EXISTS test_job_status AFTER UPDATE OF status ON jobs WHEN NEW.status <> OLD.status
        BEGIN INSERT INTO test_status_history (job_id, status) VALUES (NEW.id, NEW.status); END;
    `);
  }

  of(jobId: string): JobStatus[] {
    return (
      this.db.prepare('SELECT status FROM test_status_history WHERE job_id = ? ORDER BY seq').all(jobId) as { status: JobStatus }[]
    ).map((row) => row.status);
  }

  all(): StatusChange[] {
    return this.db.prepare('SELECT seq, job_id AS jobId, status, at FROM test_status_history ORDER BY seq').all() as StatusChange[];
  }

  /** Row of the jobs table, for checks on stored fields. */
  job(jobId: string): Record<string, unknown> | undefined {
    return this.db.prepare('SELECT * FROM jobs WHERE id = ?').get(jobId) as Record<string, unknown> | undefined;
  }

  close(): void {
    this.db.close();
  }
}
