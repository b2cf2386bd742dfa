import { Injectable, OnModuleInit } from '@nestjs/common';
import { SqliteDatabase } from '@app/core';
import { JOB_STATUSES, JobStatus } from '@app/shared';
import type { Job } from '../job';
import { JobsRepository, ListQuery, TransitionRequest } from '../jobs.repository';
import { JOBS_SQLITE_MIGRATIONS } from './migrations';

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
const INSERT = `INSERT INTO jobs (${FIELDS.map((field) => COLUMNS[field]).join(', ')}) VALUES (${FIELDS.map((field) => `@${COLUMNS[field]}`).join(', ')})`;

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

  async insertMany(jobs: readonly Job[]): Promise<void> {
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

  async list(userId: string, query: ListQuery): Promise<Job[]> {
    const where = ['user_id = ?'];
    const params: SqlValue[] = [String(userId)];
    if (query.status) {
      where.push('status = ?');
      params.push(query.status);
    }
    if (query.before) {
      where.push('id < ?');
      params.push(query.before);
    }
    params.push(query.limit);
    return toJobs(await this.sqlite.all<JobRow>(`SELECT * FROM jobs WHERE ${where.join(' AND ')} ORDER BY id DESC LIMIT ?`, ...params));
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

  async deleteOwned(id: string, userId: string): Promise<Job | null> {
    return toJob(await this.sqlite.get<JobRow>('DELETE FROM jobs WHERE id = ? AND user_id = ? RETURNING *', String(id), String(userId)));
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

  async countByStatus(userId?: string): Promise<Record<JobStatus, number>> {
    const rows = userId
      ? await this.sqlite.all<{ status: JobStatus; n: number }>(
          'SELECT status, COUNT(*) AS n FROM jobs WHERE user_id = ? GROUP BY status',
          userId,
        )
      : await this.sqlite.all<{ status: JobStatus; n: number }>('SELECT status, COUNT(*) AS n FROM jobs GROUP BY status');
    const counts = Object.fromEntries(JOB_STATUSES.map((status) => [status, 0])) as Record<JobStatus, number>;
    for (const row of rows) counts[row.status] = row.n;
    return counts;
  }

  countByStatusAndType(): Promise<{ status: JobStatus; fileType: Job['fileType']; count: number }[]> {
    return this.sqlite.all('SELECT status, file_type AS fileType, COUNT(*) AS count FROM jobs GROUP BY status, file_type');
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
  const row: JobRow = {};
  for (const field of FIELDS) {
    const value = job[field];
    row[COLUMNS[field]] = value instanceof Date ? value.getTime() : value;
  }
  return row;
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
