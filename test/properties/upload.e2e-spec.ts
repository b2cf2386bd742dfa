import { Queue } from 'bullmq';
import fc from 'fast-check';
import IORedis from 'ioredis';
import * as fs from 'node:fs';
import * as path from 'node:path';
import sharp from 'sharp';
import { isId } from '@app/core';
import { ACCEPTED_MEDIA, UploadResult } from '@app/shared';
import { ApiClient, request, UploadFile } from '../support/client';
import { smallVideos, SmallVideo } from '../support/ffmpeg';
import { InProcessApi, startInProcessApi } from '../support/in-process';
import { StatusHistory } from '../support/status-history';

jest.setTimeout(300_000);

const MAX_BYTES = 256 * 1024;
const MAX_FILES = 5;

type ImageKind = 'jpeg' | 'png' | 'gif' | 'webp';

const imageSpec = fc.record({
  kind: fc.constantFrom<ImageKind>('jpeg', 'png', 'gif', 'webp'),
  width: fc.integer({ min: 1, max: 300 }),
  height: fc.integer({ min: 1, max: 300 }),
  alpha: fc.boolean(),
  colour: fc.integer({ min: 0, max: 0xffffff }),
  base: fc.stringMatching(/^[A-Za-z0-9 _()-]{1,24}$/).filter((s) => s.trim().length > 0),
  upperExtension: fc.boolean(),
  declared: fc.constantFrom('exact', 'generic', 'none'),
});

type ImageSpec = {
  kind: ImageKind;
  width: number;
  height: number;
  alpha: boolean;
  colour: number;
  base: string;
  upperExtension: boolean;
  declared: string;
};

async function makeImage(spec: ImageSpec): Promise<UploadFile> {
  const channels = spec.alpha ? 4 : 3;
  const background = { r: spec.colour >> 16, g: (spec.colour >> 8) & 0xff, b: spec.colour & 0xff, alpha: spec.alpha ? 0.5 : 1 };
  const image = sharp({ create: { width: spec.width, height: spec.height, channels, background } });
  const data = await (
    spec.kind === 'jpeg' ? image.jpeg() : spec.kind === 'png' ? image.png() : spec.kind === 'gif' ? image.gif() : image.webp()
  ).toBuffer();
  const media = ACCEPTED_MEDIA[spec.kind];
  const extension = media.extensions[0];
  const type = spec.declared === 'exact' ? media.mimeType : spec.declared === 'generic' ? 'application/octet-stream' : '';
  return { name: `${spec.base}${spec.upperExtension ? extension.toUpperCase() : extension}`, data, type };
}

describe('upload properties (real api, SQLite, local storage, Redis queue; no worker)', () => {
  let api: InProcessApi;
  let history: StatusHistory;
  let alice: ApiClient;
  let redis: IORedis;
  let queue: Queue;
  let videos: SmallVideo[];

  beforeAll(async () => {
    api = await startInProcessApi({ MAX_UPLOAD_BYTES: String(MAX_BYTES), MAX_FILES_PER_UPLOAD: String(MAX_FILES) });
    history = new StatusHistory(path.join(api.dir, 'thumbs.db'));
    alice = await ApiClient.register(api.baseUrl);
    redis = new IORedis(api.env.REDIS_URL);
    queue = new Queue('thumbnails', { connection: redis, prefix: api.prefix });
    videos = smallVideos();
  });

  afterAll(async () => {
    await queue?.close();
    redis?.disconnect();
    history?.close();
    await api?.close();
  });

  const stored = (id: string) => path.join(api.dir, 'files', 'uploads', id);

  // Feature: thumbnail-generation-system, Property 5: any valid image is stored and accepted.
  it('Property 5: image file acceptance (Requirements 2.1)', async () => {
    await fc.assert(
      fc.asyncProperty(imageSpec, async (spec) => {
        const file = await makeImage(spec);
        const res = await alice.upload([file]);
        expect(res.status).toBe(201);
        expect(res.body.rejected).toEqual([]);
        const [job] = res.body.jobs;
        expect(job).toMatchObject({
          originalFilename: file.name.trim(),
          fileType: 'image',
          mimeType: ACCEPTED_MEDIA[spec.kind].mimeType,
          fileSize: file.data.length,
          status: 'queued',
          errorMessage: null,
          errorCode: null,
          retryable: false,
          thumbnailUrl: null,
          thumbnail2xUrl: null,
          previewUrl: null,
          animatedPreviewUrl: null,
          position: 'centre',
          deletedAt: null,
        });
        expect(fs.readFileSync(stored(job.id)).equals(file.data)).toBe(true);
      }),
      { numRuns: 100 },
    );
  });

  // Feature: thumbnail-generation-system, Property 6: any valid video is stored and accepted.
  it('Property 6: video file acceptance (Requirements 2.2)', async () => {
    // Encoding 100 videos would dominate the run; 100 uploads draw from real encodes in every container.
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...videos),
        fc.constantFrom('exact', 'generic'),
        fc.stringMatching(/^[a-z0-9-]{1,16}$/),
        async (video, declared, base) => {
          const name = `${base}${path.extname(video.name)}`;
          const res = await alice.upload([
            { name, data: video.data, type: declared === 'exact' ? video.type : 'application/octet-stream' },
          ]);
          expect(res.status).toBe(201);
          const [job] = res.body.jobs;
          expect(job).toMatchObject({ originalFilename: name, fileType: 'video', fileSize: video.data.length, status: 'queued' });
          expect(['video/mp4', 'video/quicktime', 'video/x-msvideo', 'video/webm']).toContain(job.mimeType);
          expect(fs.readFileSync(stored(job.id)).equals(video.data)).toBe(true);
        },
      ),
      { numRuns: 100 },
    );
  });

  // Feature: thumbnail-generation-system, Property 7: unsupported or mismatched files are rejected with a reason.
  it('Property 7: file type validation (Requirements 2.3)', async () => {
    const jpeg = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#123456' } })
      .jpeg()
      .toBuffer();
    const foreign: Record<string, Buffer> = {
      'doc.pdf': Buffer.from('%PDF-1.7\n%âãÏÓ\n1 0 obj\n<<>>\nendobj\n'),
      'pic.bmp': Buffer.concat([Buffer.from('BM'), Buffer.alloc(60, 1)]),
      'pic.jxl': Buffer.concat([Buffer.from([0xff, 0x0a]), Buffer.alloc(60, 1)]),
      'vector.svg': Buffer.from('<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'),
      'archive.zip': Buffer.concat([Buffer.from('PK\x03\x04'), Buffer.alloc(60, 1)]),
      'song.mp3': Buffer.concat([Buffer.from('ID3\x04\0\0\0\0\0\0', 'latin1'), Buffer.alloc(40)]),
      'page.svg': Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"><rect width="9" height="9"/></svg>'),
      'notes.txt': Buffer.from('hello'),
      'empty.jpg': Buffer.alloc(0),
    };
    const bad = fc.oneof(
      fc
        .constantFrom(...Object.entries(foreign))
        .map(([name, data]) => ({ name, data, type: 'application/octet-stream', codes: ['unsupported_type', 'empty'] })),
      fc.uint8Array({ minLength: 1, maxLength: 2048 }).map((bytes) => ({
        name: 'random.jpg',
        data: Buffer.concat([Buffer.from('junk'), Buffer.from(bytes)]),
        type: 'image/jpeg',
        codes: ['unsupported_type'],
      })),
      fc
        .constantFrom('.mp4', '.mkv', '.mts', '.txt', '.exe', '.html')
        .map((extension) => ({ name: `photo${extension}`, data: jpeg, type: '', codes: ['type_mismatch'] })),
      fc
        .constantFrom('video/mp4', 'video/x-matroska', 'text/html', 'application/pdf')
        .map((type) => ({ name: 'photo.jpg', data: jpeg, type, codes: ['type_mismatch'] })),
    );
    await fc.assert(
      fc.asyncProperty(bad, fc.boolean(), async (file, withGoodFile) => {
        const files = withGoodFile ? [file, { name: 'good.jpg', data: jpeg, type: 'image/jpeg' }] : [file];
        const before = fs.readdirSync(path.join(api.dir, 'files', 'uploads')).length;
        const res = await alice.upload(files);
        const body = res.body as UploadResult & { message?: string; rejected: UploadResult['rejected'] };
        expect(body.rejected).toHaveLength(1);
        expect(body.rejected[0].originalFilename).toBe(file.name);
        expect(file.codes).toContain(body.rejected[0].code);
        expect(body.rejected[0].message).toContain(file.name);
        if (withGoodFile) {
          expect(res.status).toBe(201);
          expect(body.jobs.map((job) => job.originalFilename)).toEqual(['good.jpg']);
        } else {
          expect(res.status).toBe(400);
          expect(typeof body.message).toBe('string');
        }
        // Nothing of the rejected file was kept.
        expect(fs.readdirSync(path.join(api.dir, 'files', 'uploads')).length).toBe(before + (withGoodFile ? 1 : 0));
      }),
      { numRuns: 100 },
    );
  });

  // Feature: thumbnail-generation-system, Property 8: every stored file has a job record, created as pending.
  it('Property 8: metadata creation invariant (Requirements 2.4)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(imageSpec, { minLength: 1, maxLength: MAX_FILES }), async (specs) => {
        const jobs = (await alice.uploadOk(await Promise.all(specs.map(makeImage)))).map((job) => job.id);
        for (const id of jobs) {
          expect(fs.existsSync(stored(id))).toBe(true);
          const row = history.job(id)!;
          expect(row).toMatchObject({ id, user_id: alice.user.id, original_key: `uploads/${id}` });
          expect(history.of(id)[0]).toBe('pending');
        }
      }),
      { numRuns: 100 },
    );
  });

  // Feature: thumbnail-generation-system, Property 9: an upload returns valid job ids for all accepted files.
  it('Property 9: upload identifier return (Requirements 2.5)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(imageSpec, { minLength: 1, maxLength: MAX_FILES }), async (specs) => {
        const files = await Promise.all(specs.map(makeImage));
        const jobs = await alice.uploadOk(files);
        expect(jobs).toHaveLength(files.length);
        expect(new Set(jobs.map((job) => job.id)).size).toBe(files.length);
        expect(jobs.map((job) => job.originalFilename)).toEqual(files.map((file) => file.name.trim()));
        for (const job of jobs) {
          expect(isId(job.id)).toBe(true);
          expect((await alice.job(job.id)).body).toEqual(job);
        }
      }),
      { numRuns: 100 },
    );
  });

  // Feature: thumbnail-generation-system, Property 10: every stored original is on the queue with the right metadata.
  it('Property 10: job enqueue invariant (Requirements 3.1)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.array(imageSpec, { minLength: 1, maxLength: 3 }), { minLength: 1, maxLength: 3 }), async (batches) => {
        const user = await ApiClient.register(api.baseUrl);
        const ids: string[] = [];
        for (const batch of batches) ids.push(...(await user.uploadOk(await Promise.all(batch.map(makeImage)))).map((job) => job.id));
        // The user's FIFO holds every job in upload order; its head is the one on BullMQ.
        expect(await redis.lrange(`${api.prefix}:fifo:user:${user.user.id}`, 0, -1)).toEqual(ids);
        expect(await redis.sismember(`${api.prefix}:fifo:users`, user.user.id)).toBe(1);
        const head = await queue.getJob(ids[0]);
        expect(head?.data).toEqual({ jobId: ids[0], userId: user.user.id });
        expect(await head?.getState()).toBe('waiting');
        for (const id of ids.slice(1)) expect(await queue.getJob(id)).toBeUndefined();
      }),
      { numRuns: 100 },
    );
  });

  // Feature: thumbnail-generation-system, Property 12: a job is marked queued when it is enqueued.
  it('Property 12: enqueue status update (Requirements 3.3)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(imageSpec, { minLength: 1, maxLength: 3 }), async (specs) => {
        const user = await ApiClient.register(api.baseUrl);
        const jobs = await user.uploadOk(await Promise.all(specs.map(makeImage)));
        for (const job of jobs) {
          expect(history.of(job.id)).toEqual(['pending', 'queued']);
          expect((await user.job(job.id)).body.status).toBe('queued');
        }
        // The head reached BullMQ only after its status said queued.
        const head = await queue.getJob(jobs[0].id);
        const queuedAt = history.all().find((change) => change.jobId === jobs[0].id && change.status === 'queued')!.at;
        expect(head!.timestamp).toBeGreaterThanOrEqual(queuedAt - 1);
      }),
      { numRuns: 100 },
    );
  });

  // Feature: thumbnail-generation-system, Property 34: a failed upload says what went wrong.
  it('Property 34: upload failure error messages (Requirements 10.1)', async () => {
    const jpeg = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#654321' } })
      .jpeg()
      .toBuffer();
    const failure = fc.oneof(
      fc.constant({ kind: 'no files' as const }),
      fc.constant({ kind: 'wrong field' as const }),
      fc.constant({ kind: 'no token' as const }),
      fc.constant({ kind: 'bad token' as const }),
      fc.integer({ min: MAX_FILES + 1, max: MAX_FILES + 4 }).map((count) => ({ kind: 'too many' as const, count })),
      fc.integer({ min: MAX_BYTES + 1, max: MAX_BYTES + 50_000 }).map((size) => ({ kind: 'too large' as const, size })),
      fc.constant({ kind: 'all rejected' as const }),
      fc.constant({ kind: 'not multipart' as const }),
    );
    const expected: Record<string, [number, RegExp]> = {
      'no files': [400, /No files received/],
      'wrong field': [400, /field "files"/],
      'no token': [401, /Sign in required/],
      'bad token': [401, /Sign in required/],
      'too many': [413, new RegExp(`at most ${MAX_FILES}`)],
      'too large': [413, /larger than the 256 KiB limit/],
      'all rejected': [400, /not a supported image or video/],
      'not multipart': [400, /multipart\/form-data/],
    };
    await fc.assert(
      fc.asyncProperty(failure, async (f) => {
        const form = new FormData();
        const headers: Record<string, string> = { authorization: `Bearer ${alice.token}` };
        let body: FormData | string = form;
        if (f.kind === 'wrong field') form.append('file', new Blob([jpeg]), 'a.jpg');
        if (f.kind === 'no token') delete headers.authorization;
        if (f.kind === 'bad token') headers.authorization = 'Bearer nope';
        if (f.kind === 'too many') for (let i = 0; i < f.count; i += 1) form.append('files', new Blob([jpeg]), `a${i}.jpg`);
        if (f.kind === 'too large') form.append('files', new Blob([Buffer.concat([jpeg, Buffer.alloc(f.size - jpeg.length)])]), 'big.jpg');
        if (f.kind === 'all rejected') form.append('files', new Blob([Buffer.from('plain text')]), 'a.txt');
        if (f.kind === 'no files') form.append('note', 'hello');
        if (f.kind === 'not multipart') {
          body = JSON.stringify({ files: [] });
          headers['content-type'] = 'application/json';
        }
        const response = await fetch(`${api.baseUrl}/api/upload`, { method: 'POST', headers, body });
        const json = (await response.json()) as { statusCode: number; error: string; message: string };
        const [status, message] = expected[f.kind];
        expect(response.status).toBe(status);
        expect(json.statusCode).toBe(status);
        expect(typeof json.error).toBe('string');
        expect(json.message).toMatch(message);
      }),
      { numRuns: 100 },
    );
  });

  it('honours Idempotency-Key: the same user and key get the first response back and no new jobs', async () => {
    const user = await ApiClient.register(api.baseUrl);
    const other = await ApiClient.register(api.baseUrl);
    const file = await makeImage({
      kind: 'png',
      width: 20,
      height: 10,
      alpha: true,
      colour: 0xabcdef,
      base: 'same',
      upperExtension: false,
      declared: 'exact',
    });
    const first = await user.upload([file], { 'idempotency-key': 'key-1' });
    expect(first.status).toBe(201);
    const second = await user.upload([file, file], { 'idempotency-key': 'key-1' });
    expect(second.status).toBe(201);
    expect(second.body).toEqual(first.body);
    expect(second.headers.get('idempotent-replayed')).toBe('true');
    expect((await user.list()).body.items).toHaveLength(1);
    // Another user's identical key is theirs alone.
    const theirs = await other.upload([file], { 'idempotency-key': 'key-1' });
    expect(theirs.body.jobs[0].id).not.toBe(first.body.jobs[0].id);
    // A failed request does not use the key up.
    const rejected = await user.upload([{ name: 'x.txt', data: Buffer.from('no') }], { 'idempotency-key': 'key-2' });
    expect(rejected.status).toBe(400);
    const retried = await user.upload([file], { 'idempotency-key': 'key-2' });
    expect(retried.status).toBe(201);
    // Two at once with one key: one creates, the other is told it is in progress (or replays).
    const [a, b] = await Promise.all([
      user.upload([file], { 'idempotency-key': 'key-3' }),
      user.upload([file], { 'idempotency-key': 'key-3' }),
    ]);
    expect([a.status, b.status].sort()).toEqual(a.status === b.status ? [201, 201] : [201, 409]);
    expect((await user.list()).body.items).toHaveLength(3);
    const invalid = await user.upload([file], { 'idempotency-key': 'x'.repeat(300) });
    expect(invalid.status).toBe(400);
  });

  it('keeps the name only as data: path parts and control characters are stripped, storage keys are generated', async () => {
    const file = await makeImage({
      kind: 'jpeg',
      width: 4,
      height: 4,
      alpha: false,
      colour: 1,
      base: 'x',
      upperExtension: false,
      declared: 'exact',
    });
    const res = await alice.upload([{ ...file, name: '../../etc/pass\u202ewd\u200f.jpg' }]);
    expect(res.status).toBe(201);
    expect(res.body.jobs[0].originalFilename).toBe('passwd.jpg');
    expect(fs.existsSync(stored(res.body.jobs[0].id))).toBe(true);
    const unicode = await alice.upload([{ ...file, name: 'Фото 😀 été.jpg' }]);
    expect(unicode.body.jobs[0].originalFilename).toBe('Фото 😀 été.jpg');
    // Control characters cannot appear in a multipart header at all: the request is refused as malformed.
    for (const name of ['a\u0000b.jpg', 'a\u0007b.jpg']) expect((await alice.upload([{ ...file, name }])).status).toBe(400);
  });

  it('answers 400 for bad list queries and pages newest first', async () => {
    const user = await ApiClient.register(api.baseUrl);
    const file = await makeImage({
      kind: 'gif',
      width: 3,
      height: 3,
      alpha: false,
      colour: 7,
      base: 'g',
      upperExtension: false,
      declared: 'exact',
    });
    const ids: string[] = [];
    for (let i = 0; i < 5; i += 1) ids.push((await user.uploadOk([file]))[0].id);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page = await user.list(`?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      expect(page.status).toBe(200);
      seen.push(...page.body.items.map((item) => item.id));
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(seen).toEqual([...ids].reverse());
    expect((await user.list('?status=queued')).body.items).toHaveLength(5);
    expect((await user.list('?status=completed')).body.items).toHaveLength(0);
    for (const query of ['?limit=0', '?limit=201', '?limit=abc', '?status=done', '?cursor=nope', '?extra=1']) {
      const res = await request<{ message: unknown }>(api.baseUrl, 'GET', `/api/jobs${query}`, {
        headers: { authorization: `Bearer ${user.token}` },
      });
      expect(res.status).toBe(400);
    }
  });
});
