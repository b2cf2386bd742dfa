import fc from 'fast-check';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { deflateSync } from 'node:zlib';
import sharp from 'sharp';
import type { JobView } from '@app/shared';
import { ApiClient, UploadFile } from '../support/client';
import { PNG_SIGNATURE, pngChunk, pngHeader } from '../support/image-fixtures';
import { TestStack } from '../support/stack';
import { runSpans } from '../support/spans';
import { StatusHistory } from '../support/status-history';

jest.setTimeout(600_000);

type Kind = 'jpeg' | 'png' | 'gif' | 'webp';
const EXTENSION: Record<Kind, string> = { jpeg: '.jpg', png: '.png', gif: '.gif', webp: '.webp' };
const MAGIC: Record<Kind, Buffer> = {
  jpeg: Buffer.from([0xff, 0xd8, 0xff, 0xe0]),
  png: Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
  gif: Buffer.from('GIF89a'),
  webp: Buffer.from('RIFF\x10\x00\x00\x00WEBPVP8 ', 'latin1'),
};

const goodImage = fc.record({
  kind: fc.constantFrom<Kind>('jpeg', 'png', 'gif', 'webp'),
  width: fc.integer({ min: 1, max: 400 }),
  height: fc.integer({ min: 1, max: 400 }),
  colour: fc.integer({ min: 0, max: 0xffffff }),
});

const brokenImage = fc.oneof(
  // A valid signature followed by garbage.
  fc
    .record({ kind: fc.constantFrom<Kind>('jpeg', 'png', 'gif', 'webp'), garbage: fc.uint8Array({ minLength: 16, maxLength: 2048 }) })
    .map(({ kind, garbage }) => ({
      kind,
      make: () => Promise.resolve(Buffer.concat([MAGIC[kind], Buffer.from(garbage)])),
    })),
  // A real JPEG or PNG cut short.
  fc.record({ kind: fc.constantFrom<Kind>('jpeg', 'png'), cut: fc.double({ min: 0.1, max: 0.7, noNaN: true }) }).map(({ kind, cut }) => ({
    kind,
    make: async () => {
      const image = sharp({
        create: { width: 200, height: 150, channels: 3, background: '#000', noise: { type: 'gaussian', mean: 128, sigma: 40 } },
      });
      const data = await (kind === 'jpeg' ? image.jpeg() : image.png()).toBuffer();
      return data.subarray(0, Math.floor(data.length * cut));
    },
  })),
  // A decompression bomb: a PNG whose header claims 50000×50000 pixels.
  fc.constant({ kind: 'png', make: () => Promise.resolve(pngBomb(50_000, 50_000)) }),
);

type GoodImage = { kind: Kind; width: number; height: number; colour: number };

async function makeGood(spec: GoodImage, name = 'good'): Promise<UploadFile> {
  const image = sharp({
    create: {
      width: spec.width,
      height: spec.height,
      channels: 3,
      background: { r: spec.colour >> 16, g: (spec.colour >> 8) & 255, b: spec.colour & 255 },
    },
  });
  const data = await (
    spec.kind === 'jpeg' ? image.jpeg() : spec.kind === 'png' ? image.png() : spec.kind === 'gif' ? image.gif() : image.webp()
  ).toBuffer();
  return { name: `${name}${EXTENSION[spec.kind]}`, data };
}

describe('processing properties (built api + 2 built workers, Redis, SQLite, local storage)', () => {
  let stack: TestStack;
  let history: StatusHistory;
  let users: ApiClient[];

  beforeAll(async () => {
    stack = await TestStack.start({ workers: 2 });
    history = new StatusHistory(path.join(stack.dir, 'thumbs.db'));
    users = [];
    for (let i = 0; i < 4; i += 1) users.push(await ApiClient.register(stack.baseUrl));
  });

  afterAll(async () => {
    history?.close();
    await stack?.stop();
  });

  afterEach(() => {
    // Whatever a property threw at them, the workers are still up.
    expect(stack.workers.every((worker) => worker.running)).toBe(true);
  });

  const thumbnailFile = (id: string) => path.join(stack.dir, 'files', 'processed', id, 'thumb.jpg');
  const waitAll = (user: ApiClient, jobs: JobView[]) => Promise.all(jobs.map((job) => user.waitFor(job.id)));

  // Feature: thumbnail-generation-system, Property 11 (per-user FIFO) and Property 13 (one job at a time per user).
  const scenario = fc.array(
    fc.record({ user: fc.integer({ min: 0, max: 3 }), batch: fc.array(goodImage, { minLength: 1, maxLength: 3 }) }),
    { minLength: 1, maxLength: 4 },
  );

  async function runScenario(steps: { user: number; batch: GoodImage[] }[]) {
    const order = new Map<number, string[]>();
    // Requests of different users go in parallel; one user's requests in sequence (that is the upload order).
    await Promise.all(
      [...new Set(steps.map((step) => step.user))].map(async (userIndex) => {
        for (const step of steps.filter((s) => s.user === userIndex)) {
          const jobs = await users[userIndex].uploadOk(await Promise.all(step.batch.map((spec, i) => makeGood(spec, `f${i}`))));
          order.set(userIndex, [...(order.get(userIndex) ?? []), ...jobs.map((job) => job.id)]);
        }
      }),
    );
    for (const [userIndex, ids] of order) for (const id of ids) await users[userIndex].waitFor(id);
    return { order, spans: runSpans(stack) };
  }

  it('Property 11: per-user FIFO ordering (Requirements 3.2)', async () => {
    await fc.assert(
      fc.asyncProperty(scenario, async (steps) => {
        const { order, spans } = await runScenario(steps);
        for (const ids of order.values()) {
          const started = [...ids].sort((a, b) => spans.get(a)!.seq - spans.get(b)!.seq);
          expect(started).toEqual(ids);
        }
      }),
      { numRuns: 100 },
    );
  });

  it('Property 13: worker consumption pattern, one job at a time per user (Requirements 3.4)', async () => {
    await fc.assert(
      fc.asyncProperty(scenario, async (steps) => {
        const { order, spans } = await runScenario(steps);
        for (const ids of order.values()) {
          const mine = ids.map((id) => spans.get(id)!);
          for (let i = 1; i < mine.length; i += 1) {
            expect(mine[i].start).toBeGreaterThanOrEqual(mine[i - 1].end);
            // The database agrees: the next job started processing after the previous one finished.
            expect(processingAt(mine[i].jobId)).toBeGreaterThanOrEqual(finishedAt(mine[i - 1].jobId));
          }
        }
      }),
      { numRuns: 100 },
    );
  });

  // Feature: thumbnail-generation-system, Property 14: a failed job is marked failed with its error message.
  it('Property 14: failure status update (Requirements 3.5)', async () => {
    await fc.assert(
      fc.asyncProperty(brokenImage, fc.integer({ min: 0, max: 3 }), async (broken, userIndex) => {
        const user = users[userIndex];
        const [job] = await user.uploadOk([{ name: `broken${EXTENSION[broken.kind]}`, data: await broken.make() }]);
        const done = await user.waitFor(job.id);
        expect(done.status).toBe('failed');
        expect(typeof done.errorMessage).toBe('string');
        expect(done.errorMessage!.length).toBeGreaterThan(10);
        expect(done.thumbnailUrl).toBeNull();
        expect(history.of(job.id)).toEqual(['pending', 'queued', 'processing', 'failed']);
        expect(history.job(job.id)!.error_message).toBe(done.errorMessage);
        expect(fs.existsSync(thumbnailFile(job.id))).toBe(false);
      }),
      { numRuns: 100 },
    );
  });

  // Feature: thumbnail-generation-system, Property 15: an image job is processing before its thumbnail is made.
  it('Property 15: image job status transition (Requirements 4.1)', async () => {
    await fc.assert(
      fc.asyncProperty(goodImage, fc.integer({ min: 0, max: 3 }), async (spec, userIndex) => {
        const user = users[userIndex];
        const [job] = await user.uploadOk([await makeGood(spec)]);
        await user.waitFor(job.id);
        const statuses = history.of(job.id);
        expect(statuses.indexOf('processing')).toBeGreaterThan(statuses.indexOf('queued'));
        expect(statuses.indexOf('processing')).toBeLessThan(statuses.indexOf('completed'));
        // The thumbnail was written after the job became processing. The kernel stamps files from
        // its coarse clock, which lags the process's clock by up to a timer tick (seen: 1.3 ms;
        // 10 ms at HZ=100), hence the allowance.
        expect(fs.statSync(thumbnailFile(job.id)).mtimeMs).toBeGreaterThanOrEqual(processingAt(job.id) - 10);
      }),
      { numRuns: 100 },
    );
  });

  // Feature: thumbnail-generation-system, Property 18: a processed image has its thumbnail file in storage.
  it('Property 18: image thumbnail file existence (Requirements 4.4)', async () => {
    await fc.assert(
      fc.asyncProperty(goodImage, fc.integer({ min: 0, max: 3 }), async (spec, userIndex) => {
        const user = users[userIndex];
        const [job] = await user.uploadOk([await makeGood(spec)]);
        expect((await user.waitFor(job.id)).status).toBe('completed');
        const meta = await sharp(fs.readFileSync(thumbnailFile(job.id))).metadata();
        expect(meta).toMatchObject({ format: 'jpeg', width: 128, height: 128 });
        expect(history.job(job.id)!.thumbnail_key).toBe(`processed/${job.id}/thumb.jpg`);
      }),
      { numRuns: 100 },
    );
  });

  // Feature: thumbnail-generation-system, Property 19: once the thumbnail is saved the job is completed.
  it('Property 19: image completion status (Requirements 4.5)', async () => {
    await fc.assert(
      fc.asyncProperty(goodImage, fc.integer({ min: 0, max: 3 }), async (spec, userIndex) => {
        const user = users[userIndex];
        const [job] = await user.uploadOk([await makeGood(spec)]);
        const done = await user.waitFor(job.id);
        expect(done.status).toBe('completed');
        expect(history.of(job.id).at(-1)).toBe('completed');
        const completedAt = Date.parse(done.completedAt!);
        expect(completedAt).toBeGreaterThanOrEqual(Math.floor(fs.statSync(thumbnailFile(job.id)).mtimeMs) - 1);
        expect(done.thumbnailUrl).toMatch(new RegExp(`^/api/thumbnails/${job.id}\\.jpg\\?exp=\\d+&sig=[\\w-]+$`));
        expect(done.errorMessage).toBeNull();
      }),
      { numRuns: 100 },
    );
  });

  // Feature: thumbnail-generation-system, Property 35: a failed generation leaves the job failed with details.
  // Feature: thumbnail-generation-system, Property 31: a download of an existing thumbnail is served with
  // the right headers, whether asked for with the owner's token or through the signed URL.
  it('Property 31: thumbnail download serving (Requirements 7.3)', async () => {
    const name = fc
      .tuple(
        fc.string({ unit: fc.constantFrom(...'aZ09 _-.,;"\'%()[]ñéü日本語😀'.split(/(?:)/u)), minLength: 1, maxLength: 24 }),
        fc.constantFrom('.jpg', '.JPG', '.jpeg', '.png', '.webp'),
      )
      .map(([stem, extension]) => stem + extension);
    await fc.assert(
      fc.asyncProperty(
        name,
        fc.constantFrom('token', 'signed'),
        fc.boolean(),
        fc.integer({ min: 0, max: 3 }),
        async (filename, via, conditional, userIndex) => {
          const user = users[userIndex];
          const kind: Kind = filename.endsWith('.png') ? 'png' : filename.endsWith('.webp') ? 'webp' : 'jpeg';
          const image = await makeGood({ kind, width: 40, height: 30, colour: 0x336699 });
          const [job] = await user.uploadOk([{ ...image, name: filename }]);
          const done = await user.waitFor(job.id);
          expect(done.status).toBe('completed');

          const url = via === 'token' ? `/api/download/${job.id}.jpg` : done.downloadUrl!;
          const response = await user.fetchBytes(url, via === 'token');
          expect(response.status).toBe(200);
          expect(response.headers.get('content-type')).toBe('image/jpeg');
          expect(Number(response.headers.get('content-length'))).toBe(response.data.length);
          expect(response.data.equals(fs.readFileSync(thumbnailFile(job.id)))).toBe(true);
          expect(await sharp(response.data).metadata()).toMatchObject({ format: 'jpeg', width: 128, height: 128 });
          expect(response.headers.get('cache-control')).toMatch(/^private, max-age=\d+, immutable$/);
          expect(response.headers.get('x-content-type-options')).toBe('nosniff');

          // Content-Disposition: an attachment named "<original name>-thumb.jpg", exactly in the UTF-8
          // form, and as a plain quoted ASCII fallback that cannot break out of its quotes.
          const disposition = response.headers.get('content-disposition')!;
          const parsed = /^attachment; filename="([\x20-\x7e]*)"; filename\*=UTF-8''([A-Za-z0-9!#$&+\-.^_`|~%]+)$/.exec(disposition);
          expect(parsed).not.toBeNull();
          const [, ascii, encoded] = parsed!;
          const stem = done.originalFilename.replace(/\.[^.]*$/, '');
          expect(decodeURIComponent(encoded)).toBe(`${stem || 'thumbnail'}-thumb.jpg`);
          expect(ascii).not.toMatch(/["\\]/);
          expect(ascii).toMatch(/-thumb\.jpg$/);

          if (conditional) {
            const again = await fetch(stack.baseUrl + url, {
              headers: {
                'if-none-match': response.headers.get('etag')!,
                ...(via === 'token' ? { authorization: `Bearer ${user.token}` } : {}),
              },
            });
            expect(again.status).toBe(304);
            expect((await again.arrayBuffer()).byteLength).toBe(0);
          }
        },
      ),
      { numRuns: 100 },
    );
  });

  it('Property 35: generation failure status (Requirements 10.2)', async () => {
    const messages = new Set<string>();
    await fc.assert(
      fc.asyncProperty(brokenImage, async (broken) => {
        const user = users[0];
        const [job] = await user.uploadOk([{ name: `x${EXTENSION[broken.kind]}`, data: await broken.make() }]);
        const done = await user.waitFor(job.id);
        expect(done.status).toBe('failed');
        expect(done.errorMessage).toMatch(/image|pixels|file/i);
        expect(done.errorMessage).not.toMatch(/\n|\bat .*\(.*:\d+:\d+\)/); // one line, no stack trace
        messages.add(done.errorMessage!);
      }),
      { numRuns: 100 },
    );
    // The bomb is named as such, not as a generic decoding error.
    expect([...messages].some((message) => /50000×50000 pixels/.test(message))).toBe(true);
  });

  // Feature: thumbnail-generation-system, Property 36: broken files fail, valid ones complete, the worker goes on.
  it('Property 36: invalid file error recovery (Requirements 10.3)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.oneof(
            goodImage.map((spec) => ({ good: true as const, spec })),
            brokenImage.map((broken) => ({ good: false as const, broken })),
          ),
          { minLength: 2, maxLength: 6 },
        ),
        fc.integer({ min: 0, max: 3 }),
        async (items, userIndex) => {
          const user = users[userIndex];
          const files = await Promise.all(
            items.map(async (item, i) =>
              item.good ? makeGood(item.spec, `g${i}`) : { name: `b${i}${EXTENSION[item.broken.kind]}`, data: await item.broken.make() },
            ),
          );
          const jobs = await user.uploadOk(files);
          const done = await waitAll(user, jobs);
          done.forEach((job, i) => expect(job.status).toBe(items[i].good ? 'completed' : 'failed'));
        },
      ),
      { numRuns: 100 },
    );
  });

  function processingAt(jobId: string): number {
    return history.all().find((change) => change.jobId === jobId && change.status === 'processing')!.at;
  }

  function finishedAt(jobId: string): number {
    return history.all().find((change) => change.jobId === jobId && (change.status === 'completed' || change.status === 'failed'))!.at;
  }
});

/** A PNG that declares width×height but carries a few bytes of data: refused before decoding. */
function pngBomb(width: number, height: number): Buffer {
  return Buffer.concat([
    PNG_SIGNATURE,
    pngHeader(width, height, 8, 2),
    pngChunk('IDAT', deflateSync(Buffer.alloc(1024))),
    pngChunk('IEND'),
  ]);
}
