import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { newId, SqliteDatabase } from '@app/core';
import { Job, UNPROCESSED } from '@app/jobs';
import { SqliteJobsRepository } from '@app/jobs/adapters';
import type { JobPage } from '@app/shared';
import { StorageKeys } from '@app/storage';
import { register, Row, startStack, stopStack, User } from '../lib/context';
import type { Tiny } from '../lib/media';
import { getJson, upload, UploadSource } from '../lib/multipart';
import { memoryOf, MiB, RssSampler } from '../lib/proc';
import { log, round, summary } from '../lib/util';

const GiB = 1024 * MiB;
const ROWS = 100_000;
const DEEP = 90_000;

/**
 * Section 4 (api memory while a 1 GiB upload streams through) and 5 (a user with 100,000 jobs in
 * SQLite: listing latency, and uploads no slower than with an empty table), on an api of its own
 * (no worker: only the api's paths are measured).
 */
export async function dataSections(tiny: Tiny[], requests: number, rows: Row[], raw: Record<string, unknown>): Promise<void> {
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

    // ── 5. 100,000 jobs of one user ──────────────────────────────────────────────────────
    const t1 = performance.now();
    await insertJobs(path.join(stack.dir, 'thumbs.db'), heavy.id, ROWS);
    log(`inserted ${ROWS} jobs in ${round((performance.now() - t1) / 1000)} s`);
    const first = await listLatencies(base, heavy, '/api/jobs', requests);
    const cursor = await walkTo(base, heavy, DEEP);
    const deep = await listLatencies(base, heavy, `/api/jobs?cursor=${cursor}`, requests);
    const after = await uploadLatencies(base, heavy, sources.slice(requests, 2 * requests));
    const s5 = '5 100k jobs';
    rows.push(
      {
        section: s5,
        metric: `GET /api/jobs first page (p50 ${round(first.p50, 2)}, p95 ${round(first.p95, 2)}), p99`,
        value: round(first.p99, 2),
        unit: 'ms',
        target: '≤ 20',
        pass: first.p99 <= 20,
      },
      {
        section: s5,
        metric: `GET /api/jobs page at ${DEEP.toLocaleString('en')} via cursor (p50 ${round(deep.p50, 2)}, p95 ${round(deep.p95, 2)}), p99`,
        value: round(deep.p99, 2),
        unit: 'ms',
        target: '≤ 20',
        pass: deep.p99 <= 20,
      },
      { section: s5, metric: 'upload p50, empty table', value: round(before.p50, 2), unit: 'ms' },
      { section: s5, metric: `upload p50, user with ${ROWS.toLocaleString('en')} jobs`, value: round(after.p50, 2), unit: 'ms' },
      {
        section: s5,
        metric: 'upload p50: 100k / empty',
        value: round(after.p50 / before.p50, 2),
        unit: '×',
        target: '≤ 1.2 (unaffected)',
        pass: after.p50 / before.p50 <= 1.2,
      },
    );
    raw.scale = { rows: ROWS, inserted: ROWS, first, deep, uploadBefore: before, uploadAfter: after };
  } finally {
    await stopStack(stack);
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

async function listLatencies(base: string, user: User, path_: string, count: number): Promise<ReturnType<typeof summary>> {
  const latencies: number[] = [];
  for (let i = 0; i < count + 10; i += 1) {
    const { status, ms } = await getJson<JobPage>(base, path_, user.token);
    if (status !== 200) throw new Error(`GET ${path_}: ${status}`);
    if (i >= 10) latencies.push(ms);
  }
  return summary(latencies);
}

/** Pages through the user's jobs (200 at a time) to the `depth`-th newest; returns the cursor there. */
async function walkTo(base: string, user: User, depth: number): Promise<string> {
  let seen = 0;
  let cursor: string | null = null;
  while (seen < depth) {
    const limit = Math.min(200, depth - seen);
    const query: string = `/api/jobs?limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`;
    const { status, body } = await getJson<JobPage>(base, query, user.token);
    if (status !== 200 || !body.nextCursor) throw new Error(`paging stopped at ${seen}: ${status}`);
    seen += body.items.length;
    cursor = body.nextCursor;
  }
  return cursor!;
}

/**
 * Inserts `count` finished jobs of one user straight into the api's SQLite file, through the
 * repository class the apps use (same columns and encoding), in the past and in id order.
 */
export async function insertJobs(file: string, userId: string, count: number): Promise<void> {
  const database = new SqliteDatabase(file);
  try {
    const repository = new SqliteJobsRepository(database);
    repository.onModuleInit();
    const start = Date.now() - count * 1000 - 86_400_000;
    const batch: Job[] = [];
    for (let i = 0; i < count; i += 1) {
      const createdAt = new Date(start + i * 1000);
      const id = newId(createdAt.getTime());
      const failed = i % 10 === 9;
      const completedAt = new Date(createdAt.getTime() + 400);
      batch.push({
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
      });
      if (batch.length === 10_000) {
        await repository.insertMany(batch.splice(0));
      }
    }
    if (batch.length > 0) await repository.insertMany(batch.splice(0));
  } finally {
    database.close();
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
