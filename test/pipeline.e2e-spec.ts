import sharp from 'sharp';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ApiClient } from './support/client';
import { media, meanColour, solid } from './support/media';
import { TestStack } from './support/stack';
import { peakRssMiB } from './support/env';
import { runSpans } from './support/spans';
import { StatusHistory } from './support/status-history';

jest.setTimeout(120_000);

/**
 * The image pipeline end to end through the real parts: the built api and two built worker
 * processes on real Redis and SQLite, local-disk storage, driven over HTTP.
 */
describe('image pipeline (api + 2 workers, Redis, SQLite)', () => {
  let stack: TestStack;
  let history: StatusHistory;

  beforeAll(async () => {
    stack = await TestStack.start({ workers: 2 });
    history = new StatusHistory(path.join(stack.dir, 'thumbs.db'));
  });

  afterAll(async () => {
    history?.close();
    await stack?.stop();
  });

  it('turns a JPEG, a PNG with alpha, an animated GIF and an animated WebP into 128×128 JPEG thumbnails', async () => {
    const alice = await ApiClient.register(stack.baseUrl);
    const files = [
      await media.jpeg(640, 480, '#3a7bd5'),
      await media.pngWithAlpha(),
      await media.animatedGif(),
      await media.animatedWebp(),
    ];
    const jobs = await alice.uploadOk(files);
    expect(jobs.map((job) => job.originalFilename)).toEqual(['photo.jpg', 'logo.png', 'anim.gif', 'anim.webp']);
    expect(jobs.every((job) => job.status === 'queued' && job.fileType === 'image')).toBe(true);

    for (const job of jobs) {
      const done = await alice.waitFor(job.id);
      expect(done).toMatchObject({ status: 'completed', errorMessage: null });
      expect(done.completedAt).not.toBeNull();
      expect(history.of(job.id)).toEqual(['pending', 'queued', 'processing', 'completed']);

      // The signed URL works without a token (an <img> tag), and so does the bearer token.
      const signed = await alice.fetchBytes(done.thumbnailUrl!);
      expect(signed.status).toBe(200);
      expect(signed.headers.get('content-type')).toBe('image/jpeg');
      expect(signed.headers.get('etag')).toBeTruthy();
      expect(signed.headers.get('cache-control')).toMatch(/^private, max-age=\d+, immutable$/);
      const meta = await sharp(signed.data).metadata();
      expect(meta).toMatchObject({ format: 'jpeg', width: 128, height: 128, space: 'srgb', channels: 3 });

      const bearer = await alice.fetchBytes(`/api/thumbnails/${job.id}.jpg`, true);
      expect(bearer.status).toBe(200);
      expect(bearer.data.equals(signed.data)).toBe(true);

      const again = await fetch(stack.baseUrl + done.thumbnailUrl!, { headers: { 'if-none-match': signed.headers.get('etag')! } });
      expect(again.status).toBe(304);

      const download = await alice.fetchBytes(done.downloadUrl!);
      expect(download.status).toBe(200);
      expect(download.data.equals(signed.data)).toBe(true);
      const base = job.originalFilename.replace(/\.[^.]+$/, '');
      expect(download.headers.get('content-disposition')).toBe(
        `attachment; filename="${base}-thumb.jpg"; filename*=UTF-8''${base}-thumb.jpg`,
      );
    }

    // Transparency flattened onto white: the PNG's transparent corners are white.
    const png = await alice.fetchBytes((await alice.job(jobs[1].id)).body.thumbnailUrl!);
    const corner = await meanColour(png.data, { left: 0, top: 0, width: 8, height: 8 });
    corner.forEach((channel) => expect(channel).toBeGreaterThan(245));
    // First frame of the animations: red, not green or blue.
    for (const job of jobs.slice(2)) {
      const thumb = await alice.fetchBytes((await alice.job(job.id)).body.thumbnailUrl!);
      const [r, g, b] = await meanColour(thumb.data);
      expect(r).toBeGreaterThan(200);
      expect(g).toBeLessThan(60);
      expect(b).toBeLessThan(60);
    }
  });

  it('fails a broken file with a message and goes on with the next job', async () => {
    const bob = await ApiClient.register(stack.baseUrl);
    const [broken, next] = await bob.uploadOk([media.brokenJpeg(), await media.jpeg(200, 100, '#ff8800')]);
    const failed = await bob.waitFor(broken.id);
    expect(failed.status).toBe('failed');
    expect(failed.errorMessage).toMatch(/image/i);
    expect(failed.errorMessage!.length).toBeLessThan(300);
    expect(failed.errorMessage).not.toMatch(/\n\s+at /); // no stack trace
    expect(failed.thumbnailUrl).toBeNull();
    expect(failed).toMatchObject({ errorCode: expect.stringMatching(/^(undecodable|truncated)$/), retryable: false });
    expect(history.of(broken.id)).toEqual(['pending', 'queued', 'processing', 'failed']);
    expect((await bob.waitFor(next.id)).status).toBe('completed');
    expect(stack.workers.every((worker) => worker.running)).toBe(true);
  });

  it('gives another user 404 for a job and its files, whatever the route', async () => {
    const owner = await ApiClient.register(stack.baseUrl);
    const other = await ApiClient.register(stack.baseUrl);
    const [job] = await owner.uploadOk([await media.jpeg()]);
    const done = await owner.waitFor(job.id);

    expect((await other.job(job.id)).status).toBe(404);
    expect((await other.retry(job.id)).status).toBe(404);
    expect((await other.remove(job.id)).status).toBe(404);
    expect((await other.list()).body.items.map((item) => item.id)).not.toContain(job.id);
    expect((await other.fetchBytes(`/api/thumbnails/${job.id}.jpg`, true)).status).toBe(404);
    expect((await other.fetchBytes(`/api/download/${job.id}.jpg`, true)).status).toBe(404);
    // A signed URL for one resource does not open the other, and tampering breaks it.
    expect((await other.fetchBytes(done.thumbnailUrl!.replace('/api/thumbnails/', '/api/download/'))).status).toBe(404);
    expect((await other.fetchBytes(done.thumbnailUrl!.replace(/sig=[^&]+/, 'sig=AAAA'))).status).toBe(404);
    expect((await other.fetchBytes(done.thumbnailUrl!.replace(/exp=\d+/, 'exp=99999999999'))).status).toBe(404);
    // No path games either.
    for (const name of ['..%2F..%2Fthumbs.db', '%2e%2e%2fjwt-secret', `${job.id}.png`, `${job.id}`]) {
      expect((await owner.fetchBytes(`/api/thumbnails/${name}`, true)).status).toBe(404);
    }
    // The owner still has everything.
    expect((await owner.job(job.id)).status).toBe(200);
    expect((await owner.fetchBytes(`/api/download/${job.id}.jpg`, true)).status).toBe(200);
  });

  it('deletes a job for good (permanent=true) with its original and thumbnail', async () => {
    const carol = await ApiClient.register(stack.baseUrl);
    const [job] = await carol.uploadOk([await media.jpeg()]);
    const done = await carol.waitFor(job.id);
    const files = path.join(stack.dir, 'files');
    expect(fs.existsSync(path.join(files, 'uploads', job.id))).toBe(true);
    expect(fs.existsSync(path.join(files, 'processed', job.id, 'thumb.jpg'))).toBe(true);
    expect((await carol.request('DELETE', `/api/jobs/${job.id}?permanent=true`)).status).toBe(204);
    expect((await carol.job(job.id)).status).toBe(404);
    expect((await carol.fetchBytes(done.thumbnailUrl!)).status).toBe(404);
    expect(fs.existsSync(path.join(files, 'uploads', job.id))).toBe(false);
    expect(fs.existsSync(path.join(files, 'processed', job.id))).toBe(false);
  });

  it('streams a 100 MiB upload to storage without holding it in memory', async () => {
    const dave = await ApiClient.register(stack.baseUrl);
    const size = 100 * 1024 * 1024 - 1024;
    const boundary = 'thumbs-test-boundary';
    const head = Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="files"; filename="big.jpg"\r\nContent-Type: image/jpeg\r\n\r\n`,
    );
    const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
    const chunk = Buffer.alloc(1024 * 1024, 0x41);
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent === 0) controller.enqueue(Buffer.concat([head, Buffer.from([0xff, 0xd8, 0xff, 0xe0])]));
        const n = Math.min(chunk.length, size - 4 - sent);
        if (n > 0) controller.enqueue(chunk.subarray(0, n));
        sent += n;
        if (sent >= size - 4) {
          controller.enqueue(tail);
          controller.close();
        }
      },
    });
    const peakBefore = peakRssMiB(stack.api!.pid);
    const response = await fetch(`${stack.baseUrl}/api/upload`, {
      method: 'POST',
      headers: { authorization: `Bearer ${dave.token}`, 'content-type': `multipart/form-data; boundary=${boundary}` },
      body,
      duplex: 'half',
    });
    expect(response.status).toBe(201);
    const { jobs } = (await response.json()) as { jobs: { id: string; fileSize: number }[] };
    expect(jobs[0].fileSize).toBe(size);
    expect(fs.statSync(path.join(stack.dir, 'files', 'uploads', jobs[0].id)).size).toBe(size);
    const growth = peakRssMiB(stack.api!.pid) - peakBefore;
    // The whole file would be 100 MiB; streaming keeps the api's peak memory nearly where it was.
    expect(growth).toBeLessThan(40);
  });

  it('runs each user’s jobs in upload order, one at a time, users in parallel, across two worker processes', async () => {
    const users = [await ApiClient.register(stack.baseUrl), await ApiClient.register(stack.baseUrl)];
    // Big enough to take a while each, so overlaps would show.
    const picture = async (i: number) => ({
      name: `p${i}.png`,
      type: 'image/png',
      data: await solid(2400, 1600, `#${(0x202020 + i * 0x0a0b0c).toString(16).slice(-6)}`)
        .png({ compressionLevel: 1 })
        .toBuffer(),
    });
    const uploaded = await Promise.all(
      users.map(async (user) => {
        const ids: string[] = [];
        // Two requests per user, so order must hold across requests too.
        for (const batch of [
          [0, 1, 2],
          [3, 4],
        ])
          ids.push(...(await user.uploadOk(await Promise.all(batch.map(picture)))).map((job) => job.id));
        return { user, ids };
      }),
    );
    for (const { user, ids } of uploaded) for (const id of ids) await user.waitFor(id);

    const spans = runSpans(stack);
    const workersUsed = new Set<number>();
    for (const { user, ids } of uploaded) {
      const mine = ids.map((id) => spans.get(id)!);
      mine.forEach((span) => workersUsed.add(span.pid));
      // Started in upload order…
      expect([...mine].sort((a, b) => a.start - b.start).map((span) => span.jobId)).toEqual(ids);
      // …and never overlapping.
      for (let i = 1; i < mine.length; i += 1) expect(mine[i].start).toBeGreaterThanOrEqual(mine[i - 1].end);
      expect(user).toBeDefined();
    }
    // Different users did overlap (ran in parallel) at least once.
    const [a, b] = uploaded.map(({ ids }) => ids.map((id) => spans.get(id)!));
    expect(a.some((x) => b.some((y) => x.start < y.end && y.start < x.end))).toBe(true);
    expect(workersUsed.size).toBe(2);
  });
});
