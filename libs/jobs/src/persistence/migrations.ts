import type { MongoMigration, SqliteMigration } from '@app/core';

/**
 * The schema of the jobs lib (tables `jobs`, `idempotency_keys`), one migration per change, in
 * order; never edit one that has been released. See docs/architecture.md, "Migrations".
 */
export const JOBS_SQLITE_MIGRATIONS: readonly SqliteMigration[] = [
  {
    // The tables as they were created before migrations existed (IF NOT EXISTS: such databases are adopted as they are).
    id: 'jobs/0001-jobs',
    up: `
CREATE TABLE IF NOT EXISTS jobs (
  id                TEXT PRIMARY KEY,
  user_id           TEXT NOT NULL,
  original_filename TEXT NOT NULL,
  file_type         TEXT NOT NULL CHECK (file_type IN ('image', 'video')),
  mime_type         TEXT NOT NULL,
  file_size         INTEGER NOT NULL,
  status            TEXT NOT NULL CHECK (status IN ('pending', 'queued', 'processing', 'completed', 'failed')),
  error_message     TEXT,
  original_key      TEXT NOT NULL,
  thumbnail_key     TEXT,
  claim_token       TEXT,
  attempts          INTEGER NOT NULL DEFAULT 0,
  request_id        TEXT,
  created_at        INTEGER NOT NULL,
  updated_at        INTEGER NOT NULL,
  started_at        INTEGER,
  completed_at      INTEGER
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS jobs_user_id_id ON jobs (user_id, id);
CREATE INDEX IF NOT EXISTS jobs_user_id_status_id ON jobs (user_id, status, id);
CREATE INDEX IF NOT EXISTS jobs_status_id ON jobs (status, id);
CREATE INDEX IF NOT EXISTS jobs_created_at ON jobs (created_at);
CREATE TABLE IF NOT EXISTS idempotency_keys (
  user_id    TEXT NOT NULL,
  key        TEXT NOT NULL,
  response   TEXT,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (user_id, key)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS idempotency_keys_created_at ON idempotency_keys (created_at);`,
  },
];

/** Backfills and data changes of collections `jobs` and `idempotency_keys`; their indexes follow the schemas. */
export const JOBS_MONGO_MIGRATIONS: readonly MongoMigration[] = [];
