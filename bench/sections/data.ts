import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { SqliteDatabase } from '@app/core';
import Database from 'better-sqlite3';
import { v7 } from 'uuid';
import { Job, JobSort, SORT_DESCENDING, UNPROCESSED } from '@app/jobs';
import { encodeCursor, SqliteJobsRepository } from '@app/jobs/adapters';
import type { JobPage } from '@app/shared';
import { StorageKeys } from '@app/storage';
import { register, Row, startStack, stopStack, User } from '../lib/context';
import type { Tiny } from '../lib/media';
import { getJson, upload, UploadSource } from '../lib/multipart';
import { memoryOf, MiB, RssSampler } from '../lib/proc';
import { log, round, summary } from '../lib/util';

const GiB = 1024 * MiB;
const ROWS = 1_000_000;
/** How deep the deep pages are, as a share of the rows a filter keeps. */
const DEEP_SHARE = 0.9;
/** At most this long per measured query: one that scans a million rows would otherwise hold the run for many minutes. */
const LIST_BUDGET_MS = 15_000;
const SORTS: readonly JobSort[] = ['newest', 'oldest', 'name', 'size'];
/** The library's filters measured under every order: none, a tenth (failed), none at all (processing), a twentieth (video). */
const FILTERS: readonly { label: string; query: string; where: string }[] = [
  { label: 'all', query: '', where: '' },
  { label: 'status=failed', query: 'status=failed', where: "AND status = 'failed'" },
  { label: 'status=processing', query: 'status=processing', where: "AND status = 'processing'" },
  { label: 'type=video', query: 'type=video', where: "AND file_type = 'video'" },
];
/** Name searches over IMG_000000.jpg … IMG_999999.jpg: how many of the 1,000,000 names each matches. */
const SEARCHES: readonly { q: string; matches: string; sort?: JobSort }[] = [
  { q: 'img_0', matches: '100,000 (common)' },
  { q: '_12', matches: '10,000 (1 %)' },
  { q: '123456', matches: '1 (rare)' },
  { q: '123456', matches: '1 (rare), sort=name', sort: 'name' },
  { q: '77', matches: '≈ 49,000 (2 characters)' },
];

export interface DataSectionOptions {
  /** Section 4's api half: memory while a 1 GiB upload streams through. */
  memory: boolean;
  /** Section 5: a user with 1,000,000 jobs. */
  scale: boolean;
}

/**
 * Section 4 (api memory while a 1 GiB upload streams through) and 5 (a user with 1,000,000 jobs in
 * SQLite: listing latency at shallow and deep cursors under every order and filter, name search,
 * stats, and uploads no slower than with an empty table), on an api of its own (no worker: only the
 * api's paths are measured).
 */
export async function dataSections(
  tiny: Tiny[],
  requests: number,
  rows: Row[],
  raw: Record<string, unknown>,
  options: DataSectionOptions = { memory: true, scale: true },
): Promise<void> {
  const stack = await startStack({ workers: 0, env: { MAX_UPLOAD_BYTES: String(Math.round(1.1 * GiB)) } });
  try {
    const base = stack.baseUrl;
    const heavy = await register(base, 'heavy');
    const other = await register(base, 'other');
    const sources = tiny.map((image) => image.source);

    // Warm-up, then upload latency with (almost) nothing in the table.
    for (let i = 0; i < 30; i += 1) await uploadOk(base, other, sources[i]);
    const before = await uploadLatencies(base, heavy, sources.slice(0, requests));

    // ── 4. api memory while receiving 1 GiB ───────────────────────────────────────────────
    if (options.memory) {
      const apiPid = stack.api!.pid;
      await new Promise((resolve) => setTimeout(resolve, 500));
      const baseline = memoryOf(apiPid).rss;
      const sampler = new RssSampler(apiPid, 20).start();
      const t0 = performance.now();
      const big = await upload(base, other.token, { name: 'big.mp4', type: 'video/mp4', size: GiB, body: () => gibibyte() });
      const seconds = (performance.now() - t0) / 1000;
      const { peak } = sampler.stop();
      if (big.status !== 201) throw new Error(`1 GiB upload failed: ${big.status} ${JSON.stringify(big.body)}`);
      await fetch(`${base}/api/jobs/${big.body.jobs[0].id}`, { method: 'DELETE', headers: { authorization: `Bearer ${other.token}` } });
      const growth = peak - baseline;
      log(`1 GiB upload in ${round(seconds)} s; api RSS ${round(baseline / MiB)} → peak ${round(peak / MiB)} MiB`);
      rows.push({
        section: '4 memory',
        metric: `api RSS growth during a 1 GiB upload (${round(baseline / MiB)} → ${round(peak / MiB)} MiB, ${round(1024 / seconds)} MiB/s)`,
        value: round(growth / MiB),
        unit: 'MiB',
        target: '≤ 50',
        pass: growth <= 50 * MiB,
      });
      raw.apiMemory = { baseline, peak, growth, seconds };
    }
    if (!options.scale) return;

    // ── 5. 1,000,000 jobs of one user ────────────────────────────────────────────────────
    const s5 = '5 1M jobs';
    const file = path.join(stack.dir, 'thumbs.db');
    const t1 = performance.now();
    await insertJobs(file, heavy.id, ROWS);
    const insertSeconds = (performance.now() - t1) / 1000;
    log(`inserted ${ROWS.toLocaleString('en')} jobs in ${round(insertSeconds)} s`);
    rows.push({
      section: s5,
      metric: `inserting ${ROWS.toLocaleString('en')} jobs (one transaction, through the repository)`,
      value: round(insertSeconds),
      unit: 's',
    });

    const listing: Record<string, unknown> = {};
    for (const sort of SORTS) {
      for (const filter of FILTERS) {
        const query = `/api/jobs?sort=${sort}${filter.query ? `&${filter.query}` : ''}`;
        const first = await listLatencies(base, heavy, query, requests);
        const cursor = deepCursor(file, heavy.id, sort, filter.where);
        const deep = cursor ? await listLatencies(base, heavy, `${query}&cursor=${cursor.cursor}`, requests) : undefined;
        listing[`${sort} ${filter.label}`] = { first, deep, depth: cursor?.depth };
        const worst = Math.max(first.p99, deep?.p99 ?? 0);
        const depth = cursor ? `, at ${cursor.depth.toLocaleString('en')} ${round(deep!.p99, 2)}` : ', no rows';
        log(`GET ${query}: p99 first ${round(first.p99, 2)} ms${depth}`);
        rows.push({
          section: s5,
          metric: `GET /api/jobs sort=${sort} ${filter.label}: p99 first page ${round(first.p99, 2)}${depth} ms; the worse`,
          value: round(worst, 2),
          unit: 'ms',
          target: '≤ 20',
          pass: worst <= 20,
        });
      }
    }

    const searches: Record<string, unknown> = {};
    for (const search of SEARCHES) {
      const query = `/api/jobs?q=${encodeURIComponent(search.q)}${search.sort ? `&sort=${search.sort}` : ''}`;
      const latencies = await listLatencies(base, heavy, query, requests);
      searches[`${search.q} ${search.sort ?? 'newest'}`] = latencies;
      log(`GET ${query}: p99 ${round(latencies.p99, 2)} ms`);
      rows.push({
        section: s5,
        metric: `GET /api/jobs?q=${search.q} (${search.matches} match; p50 ${round(latencies.p50, 2)}), p99`,
        value: round(latencies.p99, 2),
        unit: 'ms',
        target: '≤ 50',
        pass: latencies.p99 <= 50,
      });
    }

    const stats = await listLatencies(base, heavy, '/api/jobs/stats', requests);
    rows.push({
      section: s5,
      metric: `GET /api/jobs/stats (p50 ${round(stats.p50, 2)}), p99`,
      value: round(stats.p99, 2),
      unit: 'ms',
      target: '≤ 10',
      pass: stats.p99 <= 10,
    });

    const after = await uploadLatencies(base, heavy, sources.slice(requests, 2 * requests));
    rows.push(
      { section: s5, metric: `upload p50, empty table (p99 ${round(before.p99, 2)})`, value: round(before.p50, 2), unit: 'ms' },
      {
        section: s5,
        metric: `upload p50, user with ${ROWS.toLocaleString('en')} jobs (p99 ${round(after.p99, 2)})`,
        value: round(after.p50, 2),
        unit: 'ms',
      },
      {
        section: s5,
        metric: 'upload p50: 1M / empty',
        value: round(after.p50 / before.p50, 2),
        unit: '×',
        target: '≤ 1.2 (unaffected)',
        pass: after.p50 / before.p50 <= 1.2,
      },
    );
    raw.scale = { rows: ROWS, insertSeconds, listing, searches, stats, uploadBefore: before, uploadAfter: after };
  } finally {
    await stopStack(stack);
  }
}

/**
 * A cursor `DEEP_SHARE` of the way through the rows `where` keeps under `sort`, found with OFFSET
 * straight in the file (once, outside the timing; walking there page by page would take minutes).
 */
function deepCursor(file: string, userId: string, sort: JobSort, where: string): { cursor: string; depth: number } | null {
  const db = new Database(file, { readonly: true });
  try {
    const column = { newest: 'created_at', oldest: 'created_at', name: 'name_key', size: 'file_size' }[sort];
    const direction = SORT_DESCENDING[sort] ? 'DESC' : 'ASC';
    const filter = `FROM jobs WHERE user_id = ? AND deleted_at IS NULL ${where}`;
    const { n } = db.prepare(`SELECT COUNT(*) AS n ${filter}`).get(userId) as { n: number };
    const depth = Math.floor(n * DEEP_SHARE);
    if (depth === 0) return null;
    const row = db
      .prepare(`SELECT ${column} AS key, id ${filter} ORDER BY ${column} ${direction}, id ${direction} LIMIT 1 OFFSET ?`)
      .get(userId, depth - 1) as { key: number | string; id: string };
    return { cursor: encodeCursor(sort, row), depth };
  } finally {
    db.close();
  }
}

async function uploadOk(base: string, user: User, source: UploadSource): Promise<number> {
  const result = await upload(base, user.token, source);
  if (result.status !== 201) throw new Error(`upload failed: ${result.status} ${JSON.stringify(result.body)}`);
  return result.respondedAt - result.startedAt;
}

async function uploadLatencies(base: string, user: User, sources: UploadSource[]): Promise<ReturnType<typeof summary>> {
  const latencies: number[] = [];
  for (const source of sources) latencies.push(await uploadOk(base, user, source));
  return summary(latencies);
}

/** `count` timed GETs after 10 untimed ones, or as many as fit in LIST_BUDGET_MS (a query that scans takes seconds each). */
async function listLatencies(base: string, user: User, path_: string, count: number): Promise<ReturnType<typeof summary>> {
  const latencies: number[] = [];
  const started = performance.now();
  for (let i = 0; i < count + 10 && performance.now() - started < LIST_BUDGET_MS; i += 1) {
    // The first of a series may meet a kept-alive connection the api closed while idle (the insert takes minutes): once more.
    const { status, ms } = await getJson<JobPage>(base, path_, user.token).catch((error: Error) => {
      if (i > 0) throw error;
      return getJson<JobPage>(base, path_, user.token);
    });
    if (status !== 200) throw new Error(`GET ${path_}: ${status}`);
    if (i >= 10 || ms > 1000) latencies.push(ms);
  }
  return summary(latencies);
}

/**
 * Inserts `count` finished jobs of one user straight into the api's SQLite file, through the
 * repository class the apps use (same columns and encoding), in the past and in id order.
 */
export async function insertJobs(file: string, userId: string, count: number): Promise<void> {
  const database = new SqliteDatabase(file);
  try {
    // Room for the indexes' pages in memory (256 MiB) while they are filled: a 2 MiB cache spills them to disk over and over.
    database.db.pragma('cache_size = -262144');
    const repository = new SqliteJobsRepository(database);
    repository.onModuleInit();
    await repository.insertMany(generateJobs(userId, count));
  } finally {
    database.close();
  }
}

/** `count` finished jobs of one user, a second apart in the past, in id order; made one at a time as they are inserted. */
function* generateJobs(userId: string, count: number): Generator<Job> {
  const start = Date.now() - count * 1000 - 86_400_000;
  for (let i = 0; i < count; i += 1) {
    const createdAt = new Date(start + i * 1000);
    // UUIDv7 ids of their creation time, as newId() makes them at the time (a second apart: in order).
    const id = v7({ msecs: createdAt.getTime() });
    const failed = i % 10 === 9;
    const completedAt = new Date(createdAt.getTime() + 400);
    yield {
      id,
      userId,
      originalFilename: `IMG_${String(i).padStart(6, '0')}.jpg`,
      fileType: i % 20 === 0 ? 'video' : 'image',
      mimeType: i % 20 === 0 ? 'video/mp4' : 'image/jpeg',
      fileSize: 3_000_000 + (i % 1000) * 1000,
      status: failed ? 'failed' : 'completed',
      ...UNPROCESSED,
      errorMessage: failed ? 'The file is not a valid image (it may be damaged or cut short). Upload it again.' : null,
      errorCode: failed ? 'undecodable' : null,
      originalKey: StorageKeys.original(id),
      thumbnailKey: failed ? null : StorageKeys.thumbnail(id),
      contentHash: null,
      position: 'centre',
      claimToken: null,
      attempts: 1,
      requestId: randomBytes(16).toString('hex'),
      createdAt,
      updatedAt: completedAt,
      startedAt: new Date(createdAt.getTime() + 100),
      completedAt: failed ? null : completedAt,
      deletedAt: null,
    };
  }
}

/** 1 GiB of "MP4": a valid ftyp box, then random bytes, produced 1 MiB at a time (never held whole). */
function* gibibyte(): Generator<Buffer> {
  const ftyp = Buffer.from([0, 0, 0, 0x18, ...Buffer.from('ftypisom'), 0, 0, 2, 0, ...Buffer.from('isomiso2')]);
  const chunk = randomBytes(MiB);
  const first = Buffer.concat([ftyp, chunk.subarray(ftyp.length)]);
  yield first;
  for (let sent = MiB; sent < GiB; sent += MiB) yield chunk;
}
