import Database from 'better-sqlite3';
import sharp from 'sharp';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { JobView } from '@app/shared';
import { ApiClient, UploadFile } from './support/client';
import { smallVideos } from './support/ffmpeg';
import { media } from './support/media';
import { TestStack } from './support/stack';
import { StatusHistory } from './support/status-history';

jest.setTimeout(180_000);

const THUMB = 96;
const PREVIEW = 400;

/**
 * Issue 12's renditions through the real parts: the built api and a built worker on real Redis,
 * SQLite and local disk, driven over HTTP (THUMBNAIL_SIZE 96 and PREVIEW_SIZE 400, so the
 * contract's sizes are checked against non-default values).
 */
describe('renditions (api + worker, Redis, SQLite, disk)', () => {
  let stack: TestStack;
  let history: StatusHistory;
  let alice: ApiClient;
  let image: JobView;
  let video: JobView;
  let uploads: UploadFile[];

  const files = (jobId: string): string[] => {
    const dir = path.join(stack.dir, 'files', 'processed', jobId);
    return fs.existsSync(dir) ? fs.readdirSync(dir).sort() : [];
  };
  const stored = (jobId: string, name: string): Buffer => fs.readFileSync(path.join(stack.dir, 'files', 'processed', jobId, name));

  beforeAll(async () => {
    stack = await TestStack.start({ env: { THUMBNAIL_SIZE: String(THUMB), PREVIEW_SIZE: String(PREVIEW), THUMBNAIL_POSITION: 'entropy' } });
    history = new StatusHistory(path.join(stack.dir, 'thumbs.db'));
    alice = await ApiClient.register(stack.baseUrl);
    const [clip] = smallVideos(['clip.mp4']);
    uploads = [await media.jpeg(800, 500, '#3a7bd5'), { name: clip.name, type: clip.type, data: clip.data }];
    const [imageJob, videoJob] = await alice.uploadOk(uploads);
    image = await alice.waitFor(imageJob.id, ['completed', 'failed'], 90_000);
    video = await alice.waitFor(videoJob.id, ['completed', 'failed'], 90_000);
  });

  afterAll(async () => {
    history?.close();
    await stack?.stop();
  });

  it('stores every rendition of an image under the job’s prefix, with the contract’s sizes, and records its measurements', async () => {
    expect(image).toMatchObject({ status: 'completed', width: 800, height: 500, durationMs: null });
    expect(image.thumbhash).toMatch(/^[A-Za-z0-9+/]{10,}={0,2}$/);
    expect(files(image.id)).toEqual(['preview.webp', 'thumb-2x.jpg', 'thumb.jpg']);
    expect(await sharp(stored(image.id, 'thumb.jpg')).metadata()).toMatchObject({ format: 'jpeg', width: THUMB, height: THUMB });
    expect(await sharp(stored(image.id, 'thumb-2x.jpg')).metadata()).toMatchObject({ format: 'jpeg', width: 2 * THUMB, height: 2 * THUMB });
    expect(await sharp(stored(image.id, 'preview.webp')).metadata()).toMatchObject({ format: 'webp', width: PREVIEW, height: 250 });
  });

  it('stores a video’s renditions too: the animated preview (looping, several frames) and its duration', async () => {
    expect(video).toMatchObject({ status: 'completed', width: 96, height: 64 });
    expect(video.durationMs).toBeGreaterThan(800);
    expect(video.durationMs).toBeLessThan(1300);
    expect(files(video.id)).toEqual(['animated.webp', 'preview.webp', 'thumb-2x.jpg', 'thumb.jpg']);
    // Never upscaled: the 96×64 clip's preview stays 96×64.
    expect(await sharp(stored(video.id, 'preview.webp')).metadata()).toMatchObject({ format: 'webp', width: 96, height: 64 });
    const animated = await sharp(stored(video.id, 'animated.webp'), { animated: true }).metadata();
    expect(animated).toMatchObject({ format: 'webp', width: 2 * THUMB, loop: 0 });
    expect(animated.pages).toBeGreaterThan(1);
    expect(animated.pageHeight).toBe(2 * THUMB);
  });

  it('serves every rendition by its signed URL without a header (ETag, private immutable caching), and by the owner’s token', async () => {
    const expected: [JobView, keyof JobView, string, number, number][] = [
      [image, 'thumbnailUrl', 'jpeg', THUMB, THUMB],
      [image, 'thumbnail2xUrl', 'jpeg', 2 * THUMB, 2 * THUMB],
      [image, 'previewUrl', 'webp', PREVIEW, 250],
      [video, 'thumbnail2xUrl', 'jpeg', 2 * THUMB, 2 * THUMB],
      [video, 'previewUrl', 'webp', 96, 64],
      [video, 'animatedPreviewUrl', 'webp', 2 * THUMB, 2 * THUMB],
    ];
    expect(image.animatedPreviewUrl).toBeNull();
    for (const [job, field, format, width, height] of expected) {
      const url = job[field] as string;
      expect(url).toMatch(/^\/api\/[a-z-]+\/[0-9a-f-]{36}(@2x)?\.(jpg|webp)\?exp=\d+&sig=[\w-]+$/);
      const response = await fetch(stack.baseUrl + url);
      const data = Buffer.from(await response.arrayBuffer());
      expect([field, response.status, response.headers.get('content-type')]).toEqual([field, 200, `image/${format}`]);
      expect(response.headers.get('cache-control')).toMatch(/^private, max-age=\d+, immutable$/);
      expect(response.headers.get('x-content-type-options')).toBe('nosniff');
      const meta = await sharp(data, { animated: true }).metadata();
      expect([field, meta.format, meta.width, meta.pageHeight ?? meta.height]).toEqual([field, format, width, height]);
      const etag = response.headers.get('etag')!;
      expect(etag).toBeTruthy();
      expect((await fetch(stack.baseUrl + url, { headers: { 'if-none-match': etag } })).status).toBe(304);
      // The owner's token opens the same path without a signature.
      const bearer = await alice.fetchBytes(url.replace(/\?.*$/, ''), true);
      expect(bearer.status).toBe(200);
      expect(bearer.data.equals(data)).toBe(true);
    }
  });

  it('gives another user, a stranger and a tampered or borrowed signature the same 404 for every rendition and the original', async () => {
    const mallory = await ApiClient.register(stack.baseUrl);
    const urls = [video.thumbnail2xUrl!, video.previewUrl!, video.animatedPreviewUrl!, video.originalUrl!];
    for (const url of urls) {
      const bare = url.replace(/\?.*$/, '');
      expect([bare, (await mallory.fetchBytes(bare, true)).status]).toEqual([bare, 404]);
      expect([bare, (await fetch(stack.baseUrl + bare)).status]).toEqual([bare, 404]);
      expect([url, (await fetch(stack.baseUrl + url.replace(/sig=[^&]+/, 'sig=AAAA'))).status]).toEqual([url, 404]);
    }
    // A signature is for one resource: the thumbnail's does not open the preview or the original.
    const query = video.thumbnailUrl!.slice(video.thumbnailUrl!.indexOf('?'));
    expect((await fetch(`${stack.baseUrl}/api/previews/${video.id}.webp${query}`)).status).toBe(404);
    expect((await fetch(`${stack.baseUrl}/api/originals/${video.id}${query}`)).status).toBe(404);
    expect((await fetch(`${stack.baseUrl}/api/thumbnails/${video.id}@2x.jpg${query}`)).status).toBe(404);
    // Malformed names are 404 too, and an image has no animated preview.
    for (const name of [
      `previews/${image.id}.jpg`,
      `originals/${image.id}.jpg`,
      `thumbnails/${image.id}@3x.jpg`,
      `animated-previews/${image.id}.webp`,
    ]) {
      expect([name, (await alice.fetchBytes(`/api/${name}`, true)).status]).toEqual([name, 404]);
    }
  });

  it('streams the original with its sniffed type, Range (206), 416 outside it, nosniff and a sandbox CSP', async () => {
    for (const [job, upload] of [
      [image, uploads[0]],
      [video, uploads[1]],
    ] as const) {
      const size = upload.data.length;
      expect(job.originalUrl).toMatch(/^\/api\/originals\/[0-9a-f-]{36}\?exp=\d+&sig=[\w-]+$/);
      const whole = await fetch(stack.baseUrl + job.originalUrl!);
      expect(whole.status).toBe(200);
      expect(whole.headers.get('content-type')).toBe(job.mimeType);
      expect(whole.headers.get('x-content-type-options')).toBe('nosniff');
      expect(whole.headers.get('content-security-policy')).toBe('sandbox');
      expect(whole.headers.get('accept-ranges')).toBe('bytes');
      expect(whole.headers.get('content-length')).toBe(String(size));
      expect(Buffer.from(await whole.arrayBuffer()).equals(upload.data)).toBe(true);

      for (const [range, start, end] of [
        ['bytes=10-99', 10, 99],
        [`bytes=${size - 100}-`, size - 100, size - 1],
        ['bytes=-50', size - 50, size - 1],
        [`bytes=0-${size + 1000}`, 0, size - 1],
        // A suffix longer than the file is the whole file (RFC 9110 14.1.3), not unsatisfiable.
        [`bytes=-${size + 1000}`, 0, size - 1],
      ] as const) {
        const part = await fetch(stack.baseUrl + job.originalUrl!, { headers: { range } });
        expect([range, part.status, part.headers.get('content-range')]).toEqual([range, 206, `bytes ${start}-${end}/${size}`]);
        expect(part.headers.get('content-security-policy')).toBe('sandbox');
        const bytes = Buffer.from(await part.arrayBuffer());
        expect(bytes.equals(upload.data.subarray(start, end + 1))).toBe(true);
      }

      const outside = await fetch(stack.baseUrl + job.originalUrl!, { headers: { range: `bytes=${size}-` } });
      expect(outside.status).toBe(416);
      expect(outside.headers.get('content-range')).toBe(`bytes */${size}`);
      expect(outside.headers.get('cache-control')).toBe('no-store');
      expect(await outside.json()).toMatchObject({ statusCode: 416, error: 'Range Not Satisfiable' });
    }
    expect(image.mimeType).toBe('image/jpeg');
    expect(video.mimeType).toBe('video/mp4');
  });

  it('documents the file routes and the new Job fields in Swagger', async () => {
    const docs = (await (await fetch(`${stack.baseUrl}/api/docs-json`)).json()) as {
      paths: Record<string, Record<string, { responses: Record<string, unknown> }>>;
      components: { schemas: Record<string, { properties: Record<string, unknown> }> };
    };
    for (const route of ['thumbnails', 'previews', 'animated-previews', 'originals'])
      expect(docs.paths[`/api/${route}/{filename}`]?.get).toBeDefined();
    expect(Object.keys(docs.paths['/api/originals/{filename}'].get.responses)).toEqual(
      expect.arrayContaining(['200', '206', '404', '416']),
    );
    expect(Object.keys(docs.components.schemas.JobDto.properties)).toEqual(
      expect.arrayContaining([
        'thumbnail2xUrl',
        'previewUrl',
        'animatedPreviewUrl',
        'originalUrl',
        'thumbhash',
        'width',
        'height',
        'durationMs',
      ]),
    );
  });

  it('crops at the upload’s `position` (default THUMBNAIL_POSITION) and refuses any other value with 400, keeping no file', async () => {
    // 600×200: flat grey with a noisy square at the right. A centre crop sees grey; entropy and attention find the noise.
    const noise = await sharp({
      create: { width: 200, height: 200, channels: 3, background: '#000', noise: { type: 'gaussian', mean: 128, sigma: 80 } },
    })
      .png()
      .toBuffer();
    const data = await sharp({ create: { width: 600, height: 200, channels: 3, background: '#808080' } })
      .composite([{ input: noise, left: 400, top: 0 }])
      .png()
      .toBuffer();
    const upload = async (position?: string) => {
      const user = await ApiClient.register(stack.baseUrl);
      const form = new FormData();
      if (position !== undefined) form.append('position', position);
      form.append('files', new Blob([data], { type: 'image/png' }), 'banner.png');
      return { user, response: await user.request<{ jobs: JobView[] }>('POST', '/api/upload', { form }) };
    };
    const spread = async (position?: string): Promise<[string, number]> => {
      const { user, response } = await upload(position);
      expect(response.status).toBe(201);
      const job = await user.waitFor(response.body.jobs[0].id, ['completed'], 90_000);
      const thumb = await user.fetchBytes(job.thumbnailUrl!);
      const { channels } = await sharp(thumb.data).stats();
      return [job.position, channels[0].stdev];
    };
    const [centre, centreSpread] = await spread('centre');
    const [entropy, entropySpread] = await spread('entropy');
    const [attention, attentionSpread] = await spread('attention');
    const [fallback, fallbackSpread] = await spread();
    expect([centre, entropy, attention, fallback]).toEqual(['centre', 'entropy', 'attention', 'entropy']);
    // Measured: 0 for the grey centre, about 23 for the noise (sigma 80 shrunk to 96 px and JPEG-encoded).
    expect(centreSpread).toBeLessThan(3);
    expect(entropySpread).toBeGreaterThan(12);
    expect(attentionSpread).toBeGreaterThan(12);
    expect(fallbackSpread).toBeGreaterThan(12);

    const originals = () => fs.readdirSync(path.join(stack.dir, 'files', 'uploads')).sort();
    const before = originals();
    for (const bad of ['middle', 'CENTRE', '']) {
      const { user, response } = await upload(bad);
      expect([bad, response.status, response.body]).toEqual([bad, 400, expect.objectContaining({ statusCode: 400, error: 'Bad Request' })]);
      expect(JSON.stringify(response.body)).toContain('position must be one of centre, attention, entropy');
      expect((await user.list()).body.items).toEqual([]);
    }
    // The refused uploads left no file behind.
    expect(originals()).toEqual(before);
  });

  it('keeps every file while the job is in the trash and removes the original and every rendition when it is deleted for good', async () => {
    const bob = await ApiClient.register(stack.baseUrl);
    const [clip] = smallVideos(['clip.mp4']);
    const [job] = await bob.uploadOk([{ name: clip.name, type: clip.type, data: clip.data }]);
    await bob.waitFor(job.id, ['completed'], 90_000);
    expect(files(job.id)).toHaveLength(4);
    expect(fs.existsSync(path.join(stack.dir, 'files', 'uploads', job.id))).toBe(true);
    // To the trash first: its files stay (restorable) …
    expect((await bob.remove(job.id)).status).toBe(204);
    expect(files(job.id)).toHaveLength(4);
    // … and deleting it for good removes the original and every rendition.
    expect((await bob.request('DELETE', `/api/jobs/${job.id}?permanent=true`)).status).toBe(204);
    expect(files(job.id)).toEqual([]);
    expect(fs.existsSync(path.join(stack.dir, 'files', 'uploads', job.id))).toBe(false);
  });
});

describe('rendition backfill at worker start (api + worker, Redis, SQLite, disk)', () => {
  let stack: TestStack;

  beforeAll(async () => {
    stack = await TestStack.start({ env: { THUMBNAIL_SIZE: String(THUMB), PREVIEW_SIZE: String(PREVIEW) } });
  });

  afterAll(async () => {
    await stack?.stop();
  });

  it('gives jobs completed before the renditions existed their renditions, newest first, without touching their status', async () => {
    const dave = await ApiClient.register(stack.baseUrl);
    const [clip] = smallVideos(['clip.mp4']);
    const uploaded = await dave.uploadOk([{ name: clip.name, type: clip.type, data: clip.data }, await media.jpeg(640, 480, '#aa3355')]);
    const done = await Promise.all(uploaded.map((job) => dave.waitFor(job.id, ['completed'], 90_000)));
    const ids = done.map((job) => job.id);

    // Make them look like jobs of the release before renditions: only the thumbnail, nothing measured.
    await stack.workers[0].stop();
    const db = new Database(path.join(stack.dir, 'thumbs.db'), { timeout: 5000 });
    db.prepare(
      `UPDATE jobs SET thumbnail_2x_key = NULL, preview_key = NULL, animated_preview_key = NULL, thumbhash = NULL, width = NULL, height = NULL, duration_ms = NULL
       WHERE id IN (?, ?)`,
    ).run(...ids);
    const row = (id: string) => db.prepare('SELECT status, completed_at, thumbnail_key FROM jobs WHERE id = ?').get(id);
    const before = ids.map(row);
    const thumbnails = ids.map((id) => fs.readFileSync(path.join(stack.dir, 'files', 'processed', id, 'thumb.jpg')));
    for (const id of ids) {
      for (const name of ['thumb-2x.jpg', 'preview.webp', 'animated.webp'])
        fs.rmSync(path.join(stack.dir, 'files', 'processed', id, name), { force: true });
    }
    const history = new StatusHistory(path.join(stack.dir, 'thumbs.db'));
    for (const id of ids) {
      const old = (await dave.job(id)).body;
      expect(old).toMatchObject({ status: 'completed', thumbnail2xUrl: null, previewUrl: null, animatedPreviewUrl: null, thumbhash: null });
      expect(old.thumbnailUrl).not.toBeNull();
    }

    const worker = await stack.startWorker();
    const [videoLine, imageLine] = await Promise.all(
      ids.map((id) => worker.waitForLine(new RegExp(`Backfilled the renditions of job ${id}`), 120_000)),
    );
    // Oldest last: the image (uploaded second) before the video.
    expect(worker.lines.indexOf(imageLine)).toBeLessThan(worker.lines.indexOf(videoLine));

    const [video, image] = await Promise.all(ids.map(async (id) => (await dave.job(id)).body));
    expect(image).toMatchObject({ status: 'completed', width: 640, height: 480, animatedPreviewUrl: null });
    expect(video).toMatchObject({ status: 'completed', width: 96, height: 64 });
    expect(video.durationMs).toBeGreaterThan(800);
    for (const job of [image, video]) {
      expect(job.thumbhash).toMatch(/^[A-Za-z0-9+/]{10,}={0,2}$/);
      const twice = await fetch(stack.baseUrl + job.thumbnail2xUrl!);
      expect(await sharp(Buffer.from(await twice.arrayBuffer())).metadata()).toMatchObject({ width: 2 * THUMB, height: 2 * THUMB });
      expect((await fetch(stack.baseUrl + job.previewUrl!)).status).toBe(200);
    }
    const animated = await fetch(stack.baseUrl + video.animatedPreviewUrl!);
    expect((await sharp(Buffer.from(await animated.arrayBuffer()), { animated: true }).metadata()).pages).toBeGreaterThan(1);

    // Status, completion time and the thumbnail itself are untouched; no status change was recorded.
    expect(ids.map(row)).toEqual(before);
    ids.forEach((id, i) =>
      expect(fs.readFileSync(path.join(stack.dir, 'files', 'processed', id, 'thumb.jpg')).equals(thumbnails[i])).toBe(true),
    );
    for (const id of ids) expect(history.of(id)).toEqual([]);
    history.close();
    db.close();

    // Done once: a worker started later finds nothing left to backfill.
    expect(await worker.waitForLine(/Rendition backfill finished/, 60_000)).toMatch(/: 2 job\(s\) given their renditions, 0 failed/);
    const next = await stack.startWorker();
    expect(await next.waitForLine(/Rendition backfill finished/, 60_000)).toMatch(/: 0 job\(s\) given their renditions, 0 failed/);
  });
});
