import { Injectable, OnModuleInit } from '@nestjs/common';
import { SqliteDatabase } from '@app/core';
import { JOB_STATUSES, JobStatus } from '@app/shared';
import type { Job } from '../job';
import { JobSort, JobsRepository, LibraryCount, ListQuery, nameKeyOf, SORT_DESCENDING, TransitionRequest } from '../jobs.repository';
import { JOBS_SQLITE_MIGRATIONS, NAME_SEQ_SLOTS } from './migrations';

/** Every field of a job and the column it is stored in; times are stored as milliseconds since the epoch. */
const COLUMNS = {
  id: 'id',
  userId: 'user_id',
  originalFilename: 'original_filename',
  fileType: 'file_type',
  mimeType: 'mime_type',
  fileSize: 'file_size',
  status: 'status',
  errorMessage: 'error_message',
  errorCode: 'error_code',
  originalKey: 'original_key',
  thumbnailKey: 'thumbnail_key',
  thumbnail2xKey: 'thumbnail_2x_key',
  previewKey: 'preview_key',
  animatedPreviewKey: 'animated_preview_key',
  thumbhash: 'thumbhash',
  width: 'width',
  height: 'height',
  durationMs: 'duration_ms',
  contentHash: 'content_hash',
  position: 'position',
  claimToken: 'claim_token',
  attempts: 'attempts',
  requestId: 'request_id',
  createdAt: 'created_at',
  updatedAt: 'updated_at',
  startedAt: 'started_at',
  completedAt: 'completed_at',
  deletedAt: 'deleted_at',
} as const satisfies Record<keyof Job, string>;

const FIELDS = Object.keys(COLUMNS) as (keyof Job)[];
const TIME_FIELDS: ReadonlySet<keyof Job> = new Set(['createdAt', 'updatedAt', 'startedAt', 'completedAt', 'deletedAt']);
// name_key: the lower-cased name, searched and ordered by (derived, so not a field of Job).
const INSERT = `INSERT INTO jobs (${FIELDS.map((field) => COLUMNS[field]).join(', ')}, name_key) VALUES (${FIELDS.map((field) => `@${COLUMNS[field]}`).join(', ')}, @name_key)`;

/** The column each order sorts by (then by id in the same direction). */
const SORT_COLUMNS: Readonly<Record<JobSort, string>> = { newest: 'created_at', oldest: 'created_at', name: 'name_key', size: 'file_size' };

/** How many rows of an order a name search looks through before it asks the name index instead (see `list`). */
const SEARCH_PROBE_ROWS = 2000;
/** SQLite's largest integer (a bound past it cannot be bound as one). */
const MAX_SQLITE_INTEGER = 2n ** 63n - 1n;
/** The name index holds trigrams: a search of fewer characters is matched row by row. */
const TRIGRAM = 3;

type SqlValue = string | number | null;
type JobRow = Record<string, SqlValue>;

@Injectable()
export class SqliteJobsRepository extends JobsRepository implements OnModuleInit {
  constructor(private readonly sqlite: SqliteDatabase) {
    super();
  }

  onModuleInit(): void {
    this.sqlite.migrate('jobs', JOBS_SQLITE_MIGRATIONS);
  }

  async insertMany(jobs: Iterable<Job>): Promise<void> {
    await this.sqlite.transaction(() => {
      const insert = this.sqlite.prepare(INSERT);
      for (const job of jobs) insert.run(toRow(job));
    });
  }

  // String(): a value is compared as text even if something other than a string slips through.
  async findById(id: string): Promise<Job | null> {
    return toJob(await this.sqlite.get<JobRow>('SELECT * FROM jobs WHERE id = ?', String(id)));
  }

  async findOwned(id: string, userId: string): Promise<Job | null> {
    return toJob(await this.sqlite.get<JobRow>('SELECT * FROM jobs WHERE id = ? AND user_id = ?', String(id), String(userId)));
  }

  /**
   * A page of the user's library or trash under one order. A name search of three characters or
   * more first looks through the first SEARCH_PROBE_ROWS rows of the order (a common name fills
   * the page there); failing that, it takes the name index's matches (job_names_fts, jobs/0006) and
   * orders those alone, so neither a common nor a rare name walks the whole library. Shorter ones
   * are matched row by row in the order.
   */
  async list(userId: string, query: ListQuery): Promise<Job[]> {
    // `deleted_at IS NULL` written out so the library's partial indexes apply (jobs/0004, 0005).
    const where = ['user_id = ?', query.trashed ? 'deleted_at IS NOT NULL' : 'deleted_at IS NULL'];
    const params: SqlValue[] = [String(userId)];
    if (query.status) {
      where.push('status = ?');
      params.push(query.status);
    }
    if (query.type) {
      where.push('file_type = ?');
      params.push(query.type);
    }
    const sort = query.sort ?? 'newest';
    const column = SORT_COLUMNS[sort];
    const [direction, beyond] = SORT_DESCENDING[sort] ? ['DESC', '<'] : ['ASC', '>'];
    if (query.after) {
      // A row value, which SQLite turns into one seek into the order's index (an OR of the two cases would scan from the top).
      where.push(`(${column}, id) ${beyond} (?, ?)`);
      params.push(query.after.key, query.after.id);
    }
    const order = `${column} ${direction}, id ${direction}`;
    if (query.search === undefined || query.search === '') {
      return toJobs(
        await this.sqlite.all<JobRow>(`SELECT * FROM jobs WHERE ${where.join(' AND ')} ORDER BY ${order} LIMIT ?`, ...params, query.limit),
      );
    }
    const term = nameKeyOf(query.search);
    const pattern = `%${escapeLike(term)}%`;
    const matching = `${where.join(' AND ')} AND name_key LIKE ? ESCAPE '\\'`;
    if ([...term].length < TRIGRAM) {
      return toJobs(
        await this.sqlite.all<JobRow>(`SELECT * FROM jobs WHERE ${matching} ORDER BY ${order} LIMIT ?`, ...params, pattern, query.limit),
      );
    }
    const probe = await this.sqlite.all<{ id: string; hit: number }>(
      `SELECT id, name_key LIKE ? ESCAPE '\\' AS hit FROM jobs WHERE ${where.join(' AND ')} ORDER BY ${order} LIMIT ?`,
      pattern,
      ...params,
      SEARCH_PROBE_ROWS,
    );
    const hits = probe.filter((row) => row.hit === 1).slice(0, query.limit);
    if (hits.length === query.limit || probe.length < SEARCH_PROBE_ROWS) {
      if (hits.length === 0) return [];
      const found = new Map<string, JobRow>(
        (
          await this.sqlite.all<JobRow>(`SELECT * FROM jobs WHERE id IN (${hits.map(() => '?').join(', ')})`, ...hits.map((row) => row.id))
        ).map((row) => [row.id as string, row]),
      );
      // Rows deleted between the two reads are left out.
      return toJobs(hits.flatMap((row) => (found.has(row.id) ? [found.get(row.id)!] : [])));
    }
    const phrase = `"${term.replace(/"/g, '""')}"`;
    if (column === 'created_at') {
      // The name index's row ids follow created_at, id (jobs/0007): its matches are walked in the page's
      // order (CROSS JOIN: the index drives) and the walk stops when the page is full.
      // After a cursor, the walk starts at the cursor's millisecond (rows of it up to the cursor are left by `where`).
      const bound: bigint[] = [];
      let seqs = '';
      if (query.after) {
        const key = BigInt(query.after.key);
        seqs = direction === 'DESC' ? 'AND job_names_fts.rowid < ?' : 'AND job_names_fts.rowid >= ?';
        // Capped to SQLite's integers (a cursor's key is any safe integer); the cap is beyond every row.
        const seq = (direction === 'DESC' ? key + 1n : key) * BigInt(NAME_SEQ_SLOTS);
        bound.push(seq < MAX_SQLITE_INTEGER ? seq : MAX_SQLITE_INTEGER);
      }
      return toJobs(
        await this.sqlite.all<JobRow>(
          `SELECT jobs.* FROM job_names_fts CROSS JOIN job_names ON job_names.seq = job_names_fts.rowid CROSS JOIN jobs ON jobs.id = job_names.job_id
           WHERE job_names_fts MATCH ? ${seqs} AND ${matching} ORDER BY job_names_fts.rowid ${direction} LIMIT ?`,
          phrase,
          ...bound,
          ...params,
          pattern,
          query.limit,
        ),
      );
    }
    // CROSS JOIN: the matches drive (looked up in jobs by id), never a walk of an order's index probing them.
    return toJobs(
      await this.sqlite.all<JobRow>(
        `WITH matches AS MATERIALIZED (
           SELECT job_id FROM job_names WHERE seq IN (SELECT rowid FROM job_names_fts WHERE job_names_fts MATCH ?)
         )
         SELECT jobs.* FROM matches CROSS JOIN jobs ON jobs.id = matches.job_id WHERE ${matching} ORDER BY ${order} LIMIT ?`,
        phrase,
        ...params,
        pattern,
        query.limit,
      ),
    );
  }

  async transition(id: string, request: TransitionRequest): Promise<Job | null> {
    const { sql, params } = this.transitionSql(request, 'id = ?', [id]);
    return toJob(await this.sqlite.get<JobRow>(`${sql} RETURNING *`, ...params));
  }

  async transitionMany(ids: readonly string[], request: TransitionRequest): Promise<string[]> {
    if (ids.length === 0) return [];
    const { sql, params } = this.transitionSql(request, `id IN (${ids.map(() => '?').join(', ')})`, [...ids]);
    return (await this.sqlite.all<{ id: string }>(`${sql} RETURNING id`, ...params)).map((row) => row.id);
  }

  // The counts and sums below read job_counts, kept by triggers on jobs (jobs/0005): a few rows per user, never a scan of the jobs.
  async originalBytes(userId: string): Promise<number> {
    const row = await this.sqlite.get<{ bytes: number | null }>(
      'SELECT SUM(bytes) AS bytes FROM job_counts WHERE user_id = ?',
      String(userId),
    );
    return row?.bytes ?? 0;
  }

  async findByContentHashes(userId: string, hashes: readonly string[]): Promise<Pick<Job, 'id' | 'originalFilename' | 'contentHash'>[]> {
    if (hashes.length === 0) return [];
    const rows = await this.sqlite.all<{ id: string; original_filename: string; content_hash: string }>(
      `SELECT id, original_filename, content_hash FROM jobs
       WHERE user_id = ? AND deleted_at IS NULL AND content_hash IN (${hashes.map(() => '?').join(', ')}) ORDER BY id ASC`,
      String(userId),
      ...hashes.map(String),
    );
    return rows.map((row) => ({ id: row.id, originalFilename: row.original_filename, contentHash: row.content_hash }));
  }

  async deleteOwned(id: string, userId: string): Promise<Job | null> {
    return toJob(await this.sqlite.get<JobRow>('DELETE FROM jobs WHERE id = ? AND user_id = ? RETURNING *', String(id), String(userId)));
  }

  async trash(userId: string, ids: readonly string[], at: Date): Promise<string[]> {
    if (ids.length === 0) return [];
    const rows = await this.sqlite.all<{ id: string }>(
      `UPDATE jobs SET deleted_at = ? WHERE user_id = ? AND id IN (${ids.map(() => '?').join(', ')}) AND deleted_at IS NULL RETURNING id`,
      at.getTime(),
      String(userId),
      ...ids.map(String),
    );
    return rows.map((row) => row.id);
  }

  async restore(userId: string, ids: readonly string[]): Promise<string[]> {
    if (ids.length === 0) return [];
    const rows = await this.sqlite.all<{ id: string }>(
      `UPDATE jobs SET deleted_at = NULL WHERE user_id = ? AND id IN (${ids.map(() => '?').join(', ')}) AND deleted_at IS NOT NULL RETURNING id`,
      String(userId),
      ...ids.map(String),
    );
    return rows.map((row) => row.id);
  }

  async findTrashedBefore(cutoff: Date, limit: number): Promise<Job[]> {
    return toJobs(
      await this.sqlite.all<JobRow>(
        'SELECT * FROM jobs WHERE deleted_at IS NOT NULL AND deleted_at < ? ORDER BY deleted_at ASC LIMIT ?',
        cutoff.getTime(),
        limit,
      ),
    );
  }

  async deleteTrashed(id: string, cutoff: Date): Promise<Job | null> {
    return toJob(
      await this.sqlite.get<JobRow>(
        'DELETE FROM jobs WHERE id = ? AND deleted_at IS NOT NULL AND deleted_at < ? RETURNING *',
        String(id),
        cutoff.getTime(),
      ),
    );
  }

  async findUnfinished(options: { updatedBefore?: Date; limit?: number } = {}): Promise<Job[]> {
    const params: SqlValue[] = [];
    let sql = "SELECT * FROM jobs WHERE status IN ('pending', 'queued', 'processing')";
    if (options.updatedBefore) {
      sql += ' AND updated_at < ?';
      params.push(options.updatedBefore.getTime());
    }
    sql += ' ORDER BY id ASC LIMIT ?';
    params.push(options.limit ?? 100_000);
    return toJobs(await this.sqlite.all<JobRow>(sql, ...params));
  }

  async findOwnedMany(userId: string, ids: readonly string[]): Promise<Job[]> {
    if (ids.length === 0) return [];
    return toJobs(
      await this.sqlite.all<JobRow>(
        `SELECT * FROM jobs WHERE user_id = ? AND id IN (${ids.map(() => '?').join(', ')})`,
        String(userId),
        ...ids.map(String),
      ),
    );
  }

  async existingIds(ids: readonly string[]): Promise<Set<string>> {
    const found = new Set<string>();
    // Within SQLite's bound-parameter limit whatever the caller passes.
    for (let start = 0; start < ids.length; start += 500) {
      const batch = ids.slice(start, start + 500).map(String);
      const rows = await this.sqlite.all<{ id: string }>(`SELECT id FROM jobs WHERE id IN (${batch.map(() => '?').join(', ')})`, ...batch);
      for (const row of rows) found.add(row.id);
    }
    return found;
  }

  async libraryCounts(userId: string): Promise<LibraryCount[]> {
    const rows = await this.sqlite.all<{ status: JobStatus; fileType: Job['fileType']; trashed: number; count: number; bytes: number }>(
      'SELECT status, file_type AS fileType, trashed, count, bytes FROM job_counts WHERE user_id = ? AND count > 0',
      String(userId),
    );
    return rows.map((row) => ({ ...row, trashed: row.trashed === 1 }));
  }

  async findMissingRenditions(options: { before?: string; limit: number }): Promise<Job[]> {
    const params: SqlValue[] = [];
    let sql = "SELECT * FROM jobs WHERE status = 'completed' AND thumbnail_key IS NOT NULL AND thumbnail_2x_key IS NULL";
    if (options.before !== undefined) {
      sql += ' AND id < ?';
      params.push(String(options.before));
    }
    sql += ' ORDER BY id DESC LIMIT ?';
    params.push(options.limit);
    return toJobs(await this.sqlite.all<JobRow>(sql, ...params));
  }

  async countByStatus(userId?: string): Promise<Record<JobStatus, number>> {
    const rows = userId
      ? await this.sqlite.all<{ status: JobStatus; n: number }>(
          'SELECT status, SUM(count) AS n FROM job_counts WHERE user_id = ? GROUP BY status',
          String(userId),
        )
      : await this.sqlite.all<{ status: JobStatus; n: number }>('SELECT status, SUM(count) AS n FROM job_counts GROUP BY status');
    const counts = Object.fromEntries(JOB_STATUSES.map((status) => [status, 0])) as Record<JobStatus, number>;
    for (const row of rows) counts[row.status] = row.n;
    return counts;
  }

  countByStatusAndType(): Promise<{ status: JobStatus; fileType: Job['fileType']; count: number }[]> {
    return this.sqlite.all(
      'SELECT status, file_type AS fileType, SUM(count) AS count FROM job_counts GROUP BY status, file_type HAVING SUM(count) > 0',
    );
  }

  ping(): Promise<void> {
    return this.sqlite.ping();
  }

  private transitionSql(request: TransitionRequest, target: string, targetParams: SqlValue[]): { sql: string; params: SqlValue[] } {
    const now = (request.now ?? new Date()).getTime();
    const sets = ['status = ?', 'updated_at = ?'];
    const params: SqlValue[] = [request.to, now];
    for (const [field, value] of Object.entries(request.set ?? {})) {
      if (field === 'incrementAttempts') {
        if (value) sets.push('attempts = attempts + 1');
        continue;
      }
      sets.push(`${COLUMNS[field as keyof Job]} = ?`);
      params.push(value instanceof Date ? value.getTime() : ((value ?? null) as SqlValue));
    }
    const where = [target, `status IN (${request.from.map(() => '?').join(', ')})`];
    params.push(...targetParams, ...request.from);
    if (request.claimToken !== undefined) {
      where.push('claim_token = ?');
      params.push(request.claimToken);
    }
    return { sql: `UPDATE jobs SET ${sets.join(', ')} WHERE ${where.join(' AND ')}`, params };
  }
}

function toRow(job: Job): JobRow {
  const row: JobRow = { name_key: nameKeyOf(job.originalFilename) };
  for (const field of FIELDS) {
    const value = job[field];
    row[COLUMNS[field]] = value instanceof Date ? value.getTime() : value;
  }
  return row;
}

/** `text` matched literally by LIKE … ESCAPE '\\'. */
function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

function toJobs(rows: JobRow[]): Job[] {
  return rows.map((row) => toJob(row)!);
}

function toJob(row: JobRow | undefined): Job | null {
  if (!row) return null;
  const job: Record<string, unknown> = {};
  for (const field of FIELDS) {
    const value = row[COLUMNS[field]];
    job[field] = TIME_FIELDS.has(field) && value !== null ? new Date(value) : value;
  }
  return job as unknown as Job;
}
