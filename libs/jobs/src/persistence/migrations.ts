import type { MongoMigration, SqliteMigration } from '@app/core';
import { nameKeyOf } from '../jobs.repository';

/** Name index row ids per millisecond of created_at (jobs/0007): more jobs than this in one millisecond are refused. */
export const NAME_SEQ_SLOTS = 65_536;

/**
 * The trigger statements that give the job `new` its row of job_names at its place in
 * creation order (jobs/0007): after the last job of its millisecond whose id sorts before its own,
 * the jobs of that millisecond from there on moved up by one first when that place is taken. (Ids
 * are time-ordered, so a job normally comes last in its millisecond and nothing moves; a batch of
 * jobs arriving in falling id order within one millisecond moves the ones before it each time.)
 */
function nameSeqInsert(): string {
  const first = `new.created_at * ${NAME_SEQ_SLOTS}`;
  const end = `(new.created_at + 1) * ${NAME_SEQ_SLOTS}`;
  const slot = `COALESCE((SELECT MAX(seq) + 1 FROM job_names WHERE seq >= ${first} AND seq < ${end} AND job_id < new.id), ${first})`;
  return `  SELECT RAISE(ABORT, 'a job cannot be created before 1970') WHERE new.created_at < 0;
  SELECT RAISE(ABORT, 'no room left in the name index for another job created in this millisecond')
    WHERE (SELECT MAX(seq) FROM job_names WHERE seq >= ${first} AND seq < ${end}) >= ${end} - 1;
  UPDATE job_names SET seq = -seq - 1
    WHERE EXISTS (SELECT 1 FROM job_names WHERE seq = ${slot}) AND seq >= ${slot} AND seq < ${end};
  UPDATE job_names SET seq = -seq WHERE seq < 0;
  INSERT INTO job_names (seq, job_id, name) VALUES (${slot}, new.id, new.name_key);`;
}

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
  {
    // The contract's new Job fields: failure code, renditions, measurements, crop position, trash.
    id: 'jobs/0002-job-media-fields',
    up: `
ALTER TABLE jobs ADD COLUMN error_code TEXT;
ALTER TABLE jobs ADD COLUMN thumbnail_2x_key TEXT;
ALTER TABLE jobs ADD COLUMN preview_key TEXT;
ALTER TABLE jobs ADD COLUMN animated_preview_key TEXT;
ALTER TABLE jobs ADD COLUMN thumbhash TEXT;
ALTER TABLE jobs ADD COLUMN width INTEGER;
ALTER TABLE jobs ADD COLUMN height INTEGER;
ALTER TABLE jobs ADD COLUMN duration_ms INTEGER;
ALTER TABLE jobs ADD COLUMN content_hash TEXT;
ALTER TABLE jobs ADD COLUMN position TEXT NOT NULL DEFAULT 'centre' CHECK (position IN ('centre', 'attention', 'entropy'));
ALTER TABLE jobs ADD COLUMN deleted_at INTEGER;`,
  },
  {
    // The trash: listing a user's (newest first) and the purge's look-up of the oldest, over trashed rows only.
    id: 'jobs/0003-trash',
    up: `
CREATE INDEX jobs_trash_user_id_id ON jobs (user_id, id) WHERE deleted_at IS NOT NULL;
CREATE INDEX jobs_trash_deleted_at ON jobs (deleted_at) WHERE deleted_at IS NOT NULL;`,
  },
  {
    // The library's search and orders: name_key (the lower-cased name, filled in here by the same
    // function that fills it on insert, so names beyond ASCII sort alike) and one index per order
    // over the library's rows, each ending with the id tie-break; newest also with status or type.
    // (user_id, id) now serves only the previous release's id-ordered list; it stays while both may run (rolling update).
    id: 'jobs/0004-library-search-sort',
    up: (db) => {
      db.exec("ALTER TABLE jobs ADD COLUMN name_key TEXT NOT NULL DEFAULT ''");
      const update = db.prepare('UPDATE jobs SET name_key = ? WHERE id = ?');
      // all(), not iterate(): the connection cannot write while a statement is still reading.
      const rows = db.prepare('SELECT id, original_filename FROM jobs').all() as { id: string; original_filename: string }[];
      for (const row of rows) {
        update.run(nameKeyOf(row.original_filename), row.id);
      }
      db.exec(`
CREATE INDEX jobs_library_created ON jobs (user_id, created_at, id) WHERE deleted_at IS NULL;
CREATE INDEX jobs_library_status_created ON jobs (user_id, status, created_at, id) WHERE deleted_at IS NULL;
CREATE INDEX jobs_library_type_created ON jobs (user_id, file_type, created_at, id) WHERE deleted_at IS NULL;
CREATE INDEX jobs_library_name ON jobs (user_id, name_key, id) WHERE deleted_at IS NULL;
CREATE INDEX jobs_library_size ON jobs (user_id, file_size, id) WHERE deleted_at IS NULL;`);
    },
  },
  {
    // A million jobs per user (docs/capacity.md): stats from kept counters, and each order under each filter from an index.
    //
    // job_counts: per user, status, type and trashed-or-not, how many jobs and their bytes, kept by
    // triggers in the same statement (so the same transaction) as every insert, transition, trash,
    // restore and delete; filled here from the rows there are. Zero rows stay (as count 0).
    //
    // The status and type filters under the name and size orders (newest/oldest had theirs in 0004),
    // the trash under every order (it had only id order), and the duplicate check's look-up by
    // content hash, which scanned the user's rows on every upload.
    id: 'jobs/0005-counts-indexes',
    up: `
CREATE TABLE job_counts (
  user_id   TEXT NOT NULL,
  status    TEXT NOT NULL,
  file_type TEXT NOT NULL,
  trashed   INTEGER NOT NULL,
  count     INTEGER NOT NULL,
  bytes     INTEGER NOT NULL,
  PRIMARY KEY (user_id, status, file_type, trashed)
) WITHOUT ROWID;
INSERT INTO job_counts (user_id, status, file_type, trashed, count, bytes)
  SELECT user_id, status, file_type, deleted_at IS NOT NULL, COUNT(*), SUM(file_size) FROM jobs GROUP BY 1, 2, 3, 4;
CREATE TRIGGER jobs_count_insert AFTER INSERT ON jobs BEGIN
  INSERT INTO job_counts (user_id, status, file_type, trashed, count, bytes)
    VALUES (new.user_id, new.status, new.file_type, new.deleted_at IS NOT NULL, 1, new.file_size)
    ON CONFLICT (user_id, status, file_type, trashed) DO UPDATE SET count = count + 1, bytes = bytes + excluded.bytes;
END;
CREATE TRIGGER jobs_count_delete AFTER DELETE ON jobs BEGIN
  UPDATE job_counts SET count = count - 1, bytes = bytes - old.file_size
    WHERE user_id = old.user_id AND status = old.status AND file_type = old.file_type AND trashed = (old.deleted_at IS NOT NULL);
END;
CREATE TRIGGER jobs_count_update AFTER UPDATE OF user_id, status, file_type, file_size, deleted_at ON jobs
  WHEN old.user_id IS NOT new.user_id OR old.status IS NOT new.status OR old.file_type IS NOT new.file_type
    OR old.file_size IS NOT new.file_size OR (old.deleted_at IS NULL) IS NOT (new.deleted_at IS NULL)
BEGIN
  UPDATE job_counts SET count = count - 1, bytes = bytes - old.file_size
    WHERE user_id = old.user_id AND status = old.status AND file_type = old.file_type AND trashed = (old.deleted_at IS NOT NULL);
  INSERT INTO job_counts (user_id, status, file_type, trashed, count, bytes)
    VALUES (new.user_id, new.status, new.file_type, new.deleted_at IS NOT NULL, 1, new.file_size)
    ON CONFLICT (user_id, status, file_type, trashed) DO UPDATE SET count = count + 1, bytes = bytes + excluded.bytes;
END;
CREATE INDEX jobs_library_status_name ON jobs (user_id, status, name_key, id) WHERE deleted_at IS NULL;
CREATE INDEX jobs_library_status_size ON jobs (user_id, status, file_size, id) WHERE deleted_at IS NULL;
CREATE INDEX jobs_library_type_name ON jobs (user_id, file_type, name_key, id) WHERE deleted_at IS NULL;
CREATE INDEX jobs_library_type_size ON jobs (user_id, file_type, file_size, id) WHERE deleted_at IS NULL;
CREATE INDEX jobs_library_content_hash ON jobs (user_id, content_hash) WHERE deleted_at IS NULL;
CREATE INDEX jobs_trash_created ON jobs (user_id, created_at, id) WHERE deleted_at IS NOT NULL;
CREATE INDEX jobs_trash_name ON jobs (user_id, name_key, id) WHERE deleted_at IS NOT NULL;
CREATE INDEX jobs_trash_size ON jobs (user_id, file_size, id) WHERE deleted_at IS NOT NULL;`,
  },
  {
    // Name search (q=) of three characters or more through an FTS5 trigram index of name_key
    // (case-sensitive over the already lower-cased key: the same substring match as LIKE on it).
    // jobs has no integer rowid (WITHOUT ROWID), so job_names gives each job one for the index,
    // and triggers keep both in step with jobs in the same statement; filled here from the rows there are.
    id: 'jobs/0006-name-search',
    up: `
CREATE TABLE job_names (
  seq    INTEGER PRIMARY KEY,
  job_id TEXT NOT NULL UNIQUE,
  name   TEXT NOT NULL
);
CREATE VIRTUAL TABLE job_names_fts USING fts5(name, content = 'job_names', content_rowid = 'seq', tokenize = 'trigram case_sensitive 1');
INSERT INTO job_names (job_id, name) SELECT id, name_key FROM jobs ORDER BY id;
INSERT INTO job_names_fts (job_names_fts) VALUES ('rebuild');
CREATE TRIGGER job_names_insert AFTER INSERT ON job_names BEGIN
  INSERT INTO job_names_fts (rowid, name) VALUES (new.seq, new.name);
END;
CREATE TRIGGER job_names_delete AFTER DELETE ON job_names BEGIN
  INSERT INTO job_names_fts (job_names_fts, rowid, name) VALUES ('delete', old.seq, old.name);
END;
CREATE TRIGGER job_names_update AFTER UPDATE OF name ON job_names BEGIN
  INSERT INTO job_names_fts (job_names_fts, rowid, name) VALUES ('delete', old.seq, old.name);
  INSERT INTO job_names_fts (rowid, name) VALUES (new.seq, new.name);
END;
CREATE TRIGGER jobs_name_insert AFTER INSERT ON jobs BEGIN
  INSERT INTO job_names (job_id, name) VALUES (new.id, new.name_key);
END;
CREATE TRIGGER jobs_name_delete AFTER DELETE ON jobs BEGIN
  DELETE FROM job_names WHERE job_id = old.id;
END;
CREATE TRIGGER jobs_name_update AFTER UPDATE OF id, name_key ON jobs WHEN old.id IS NOT new.id OR old.name_key IS NOT new.name_key BEGIN
  UPDATE job_names SET job_id = new.id, name = new.name_key WHERE job_id = old.id;
END;`,
  },
  {
    // The name index's row ids follow the library's creation order, so a search under sort=newest or
    // oldest walks the index's matches in page order and stops at the page's end, instead of reading
    // every match and sorting it (a common name among old jobs: all 100,000 matches of a 1M library).
    // seq = created_at × 65,536 + the job's place among the jobs of the same millisecond by id, so
    // ORDER BY seq is ORDER BY created_at, id exactly. A job that comes into its millisecond before
    // others by id moves them up one (through negative seqs, so no two rows ever share one).
    id: 'jobs/0007-name-search-in-creation-order',
    up: `
DROP TRIGGER jobs_name_insert;
DROP TRIGGER jobs_name_update;
DROP TABLE job_names_fts;
DROP TABLE job_names;
CREATE TABLE job_names (
  seq    INTEGER PRIMARY KEY,
  job_id TEXT NOT NULL UNIQUE,
  name   TEXT NOT NULL
);
CREATE VIRTUAL TABLE job_names_fts USING fts5(name, content = 'job_names', content_rowid = 'seq', tokenize = 'trigram case_sensitive 1');
INSERT INTO job_names (seq, job_id, name)
  SELECT created_at * ${NAME_SEQ_SLOTS} + ROW_NUMBER() OVER (PARTITION BY created_at ORDER BY id) - 1, id, name_key FROM jobs;
INSERT INTO job_names_fts (job_names_fts) VALUES ('rebuild');
CREATE TRIGGER job_names_insert AFTER INSERT ON job_names BEGIN
  INSERT INTO job_names_fts (rowid, name) VALUES (new.seq, new.name);
END;
CREATE TRIGGER job_names_delete AFTER DELETE ON job_names BEGIN
  INSERT INTO job_names_fts (job_names_fts, rowid, name) VALUES ('delete', old.seq, old.name);
END;
CREATE TRIGGER job_names_update AFTER UPDATE OF seq, name ON job_names BEGIN
  INSERT INTO job_names_fts (job_names_fts, rowid, name) VALUES ('delete', old.seq, old.name);
  INSERT INTO job_names_fts (rowid, name) VALUES (new.seq, new.name);
END;
CREATE TRIGGER jobs_name_insert AFTER INSERT ON jobs BEGIN
${nameSeqInsert()}
END;
CREATE TRIGGER jobs_name_update AFTER UPDATE OF id, name_key, created_at ON jobs
  WHEN old.id IS NOT new.id OR old.name_key IS NOT new.name_key OR old.created_at IS NOT new.created_at
BEGIN
  DELETE FROM job_names WHERE job_id = old.id;
${nameSeqInsert()}
END;`,
  },
];

/** Backfills and data changes of collections `jobs` and `idempotency_keys`; their indexes follow the schemas. */
export const JOBS_MONGO_MIGRATIONS: readonly MongoMigration[] = [
  {
    // Documents from before these fields get what new ones start with (reads are lean: no schema defaults).
    id: 'jobs/0002-job-media-fields',
    up: async (connection) => {
      const fields = {
        errorCode: null,
        thumbnail2xKey: null,
        previewKey: null,
        animatedPreviewKey: null,
        thumbhash: null,
        width: null,
        height: null,
        durationMs: null,
        contentHash: null,
        position: 'centre',
        deletedAt: null,
      };
      for (const [field, value] of Object.entries(fields)) {
        await connection.collection('jobs').updateMany({ [field]: { $exists: false } }, { $set: { [field]: value } });
      }
    },
  },
  {
    // nameKey, the lower-cased name searched and ordered by, for documents from before it ($toLower
    // lower-cases ASCII only: names beyond it sort as they are until renamed; new documents get the full lower-casing).
    id: 'jobs/0004-library-search-sort',
    up: async (connection) => {
      await connection
        .collection('jobs')
        .updateMany({ nameKey: { $exists: false } }, [{ $set: { nameKey: { $toLower: '$originalFilename' } } }]);
    },
  },
];
