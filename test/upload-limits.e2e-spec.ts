import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import sharp from 'sharp';
import { formatBytes, type Rejected, type UploadResult } from '@app/shared';
import { ApiClient, Response, UploadFile } from './support/client';
import { TestStack } from './support/stack';

jest.setTimeout(240_000);

/** A JPEG of noise (incompressible: tens of kB, more than the intake's 4 kB sniff window). */
async function noiseJpeg(name: string, width: number, height: number, seedColour: number): Promise<UploadFile> {
  const data = await sharp({
    create: { width, height, channels: 3, background: '#000000', noise: { type: 'gaussian', mean: seedColour, sigma: 40 } },
  })
    .jpeg({ quality: 90 })
    .toBuffer();
  return { name, type: 'image/jpeg', data };
}

/** The same picture with `extra` bytes after its end (still a valid JPEG; a different size and hash). */
function padded(file: UploadFile, extra: number, name = file.name): UploadFile {
  return { ...file, name, data: Buffer.concat([file.data, Buffer.alloc(extra, 0)]) };
}

/**
 * Per-user limits on uploads against the built api on real SQLite, disk and Redis:
 * USER_QUOTA_BYTES at exactly the limit, one byte over, per file within one request, while
 * streaming and across racing requests; duplicate content per user.
 */
describe('upload limits: quota (built api, SQLite, disk, Redis)', () => {
  let stack: TestStack;
  let a: UploadFile;
  let b: UploadFile;
  let c: UploadFile;
  let quota: number;

  beforeAll(async () => {
    a = await noiseJpeg('a.jpg', 160, 120, 90);
    b = await noiseJpeg('b.jpg', 200, 150, 120);
    c = await noiseJpeg('c.jpg', 240, 180, 150);
    quota = a.data.length + b.data.length + c.data.length;
    stack = await TestStack.start({ workers: 0, env: { USER_QUOTA_BYTES: String(quota) } });
  });

  afterAll(async () => {
    await stack?.stop();
  });

  /** Originals on disk right now (every user of this stack). */
  const originalsOnDisk = () => fs.readdirSync(path.join(stack.dir, 'files', 'uploads')).length;

  const codes = (body: UploadResult | { rejected?: Rejected[] }) =>
    (body.rejected ?? []).map((item) => `${item.originalFilename}:${item.code}`);

  it('accepts uploads up to exactly USER_QUOTA_BYTES, then refuses the next file with quota_exceeded and the numbers', async () => {
    const user = await ApiClient.register(stack.baseUrl);
    expect((await user.upload([a, b])).status).toBe(201);
    const last = await user.upload([c]);
    expect(last.status).toBe(201);
    expect(last.body.jobs.map((job) => job.fileSize)).toEqual([c.data.length]);
    // Now at exactly the quota: even a tiny file is refused.
    const over = await user.upload([await noiseJpeg('tiny.jpg', 8, 8, 100)]);
    expect(over.status).toBe(400);
    expect(codes(over.body)).toEqual(['tiny.jpg:quota_exceeded']);
    const message = over.body.rejected[0].message;
    expect(message).toContain(`${formatBytes(quota)} of ${formatBytes(quota)} used`);
    expect(message).toContain('tiny.jpg');
    expect((await user.list()).body.items).toHaveLength(3);
  });

  it('one byte over is refused, per file: the other files of the request go through', async () => {
    const user = await ApiClient.register(stack.baseUrl);
    const cPlusOne = padded(c, 1, 'c-plus-one.jpg');
    const response = await user.upload([a, b, cPlusOne]);
    expect(response.status).toBe(201);
    expect(response.body.jobs.map((job) => job.originalFilename)).toEqual(['a.jpg', 'b.jpg']);
    expect(codes(response.body)).toEqual(['c-plus-one.jpg:quota_exceeded']);
    expect(response.body.rejected[0].message).toContain(`of ${formatBytes(quota)} used`);
    // The exact size fits: the limit is inclusive.
    const exact = await user.upload([c]);
    expect(exact.status).toBe(201);
  });

  it('frees the quota when a job is deleted', async () => {
    const user = await ApiClient.register(stack.baseUrl);
    const [first] = await user.uploadOk([a, b, c]);
    const tiny = await noiseJpeg('tiny.jpg', 8, 8, 200);
    expect(codes((await user.upload([tiny])).body)).toEqual(['tiny.jpg:quota_exceeded']);
    expect((await user.request('DELETE', `/api/jobs/${first.id}?permanent=true`)).status).toBe(204);
    expect((await user.upload([tiny])).status).toBe(201);
  });

  it('a file larger than what is left is stopped while it streams, and nothing of it is kept', async () => {
    const user = await ApiClient.register(stack.baseUrl);
    const big = await noiseJpeg('big.jpg', 400, 400, 128);
    expect(big.data.length).toBeGreaterThan(quota);
    const before = originalsOnDisk();
    const response = await user.upload([big]);
    expect(response.status).toBe(400);
    expect(codes(response.body)).toEqual(['big.jpg:quota_exceeded']);
    expect((await user.list()).body.items).toHaveLength(0);
    expect(originalsOnDisk()).toBe(before);
  });

  it('two requests racing for the last bytes: only one gets them', async () => {
    const user = await ApiClient.register(stack.baseUrl);
    expect((await user.upload([a])).status).toBe(201);
    // Left: b + c. Each of these fits alone; both together do not.
    expect(c.data.length).toBeGreaterThan(b.data.length);
    const first = padded(c, 0, 'first.jpg');
    // Same size, other content (one byte of the picture changed), so it is no duplicate of the first.
    const second = padded(c, 0, 'second.jpg');
    second.data = Buffer.from(second.data);
    second.data[Math.floor(second.data.length / 2)] ^= 0x01;
    const before = originalsOnDisk();
    const answers = await Promise.all([user.upload([first]), user.upload([second])]);
    expect(answers.map((answer) => answer.status).sort()).toEqual([201, 400]);
    const refused = answers.find((answer) => answer.status === 400)!;
    expect(refused.body.rejected.map((item) => item.code)).toEqual(['quota_exceeded']);
    expect((await user.list()).body.items).toHaveLength(2);
    // The loser's stored copy was removed again.
    expect(originalsOnDisk()).toBe(before + 1);
  });
});

/** An upload with form fields, in the given order around the files. */
function uploadWith(
  user: ApiClient,
  files: UploadFile[],
  fields: { before?: Record<string, string>; after?: Record<string, string> },
): Promise<Response<UploadResult>> {
  const form = new FormData();
  for (const [name, value] of Object.entries(fields.before ?? {})) form.append(name, value);
  for (const file of files) form.append('files', new Blob([file.data], { type: file.type ?? 'application/octet-stream' }), file.name);
  for (const [name, value] of Object.entries(fields.after ?? {})) form.append(name, value);
  return user.request<UploadResult>('POST', '/api/upload', { form });
}

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

describe('upload limits: duplicates (built api, SQLite, disk, Redis)', () => {
  let stack: TestStack;

  beforeAll(async () => {
    stack = await TestStack.start({ workers: 0 });
  });

  afterAll(async () => {
    await stack?.stop();
  });

  it('hashes each original while it streams in: contentHash is the SHA-256 of the bytes, small or large', async () => {
    const user = await ApiClient.register(stack.baseUrl);
    const small = await noiseJpeg('small.jpg', 16, 16, 60);
    const large = await noiseJpeg('large.jpg', 1600, 1200, 100);
    expect(small.data.length).toBeLessThan(4100);
    expect(large.data.length).toBeGreaterThan(1024 * 1024);
    const jobs = await user.uploadOk([small, large]);
    expect(jobs.map((job) => job.contentHash)).toEqual([sha256(small.data), sha256(large.data)]);
  });

  it('refuses content the user already has as duplicate, naming the existing job; other files go on', async () => {
    const user = await ApiClient.register(stack.baseUrl);
    const original = await noiseJpeg('holiday.jpg', 300, 200, 80);
    const [first] = await user.uploadOk([original]);
    const other = await noiseJpeg('other.jpg', 120, 90, 140);
    const again = await user.upload([{ ...original, name: 'holiday (1).jpg' }, other], {}, { detectDuplicates: true });
    expect(again.status).toBe(201);
    expect(again.body.jobs.map((job) => job.originalFilename)).toEqual(['other.jpg']);
    expect(again.body.rejected).toEqual([
      {
        originalFilename: 'holiday (1).jpg',
        code: 'duplicate',
        message: expect.stringContaining('“holiday.jpg”'),
        existingJobId: first.id,
      },
    ]);
    // Only duplicates: 400 with the list.
    const only = await user.upload([original], {}, { detectDuplicates: true });
    expect(only.status).toBe(400);
    expect(only.body.rejected).toEqual([expect.objectContaining({ code: 'duplicate', existingJobId: first.id })]);
    expect((await user.list()).body.items).toHaveLength(2);
  });

  it('two copies in one request: the first is accepted, the second is its duplicate', async () => {
    const user = await ApiClient.register(stack.baseUrl);
    const file = await noiseJpeg('twin.jpg', 200, 100, 70);
    const response = await user.upload([file, { ...file, name: 'twin-copy.jpg' }], {}, { detectDuplicates: true });
    expect(response.status).toBe(201);
    expect(response.body.jobs).toHaveLength(1);
    expect(response.body.rejected).toEqual([
      expect.objectContaining({ originalFilename: 'twin-copy.jpg', code: 'duplicate', existingJobId: response.body.jobs[0].id }),
    ]);
  });

  it('allowDuplicates=true uploads it anyway (before or after the files); other users and deleted jobs do not count', async () => {
    const user = await ApiClient.register(stack.baseUrl);
    const file = await noiseJpeg('again.jpg', 180, 120, 110);
    const [first] = await user.uploadOk([file]);
    for (const fields of [{ before: { allowDuplicates: 'true' } }, { after: { allowDuplicates: 'true' } }]) {
      const response = await uploadWith(user, [file], fields);
      expect(response.status).toBe(201);
      expect(response.body.jobs[0].contentHash).toBe(first.contentHash);
    }
    expect((await uploadWith(user, [file], { before: { allowDuplicates: 'false' } })).status).toBe(400);
    // A checkbox's "on" means true; anything that is neither is a 400 of its own (it was taken as false), and nothing is kept.
    expect((await uploadWith(user, [file], { after: { allowDuplicates: 'on' } })).status).toBe(201);
    for (const value of ['maybe', '2', 'truthy']) {
      const response = await uploadWith(user, [file], { after: { allowDuplicates: value } });
      expect(response.status).toBe(400);
      expect(response.body).toEqual({ statusCode: 400, error: 'Bad Request', message: 'allowDuplicates must be true or false' });
    }
    expect((await user.list()).body.items).toHaveLength(4);
    // Someone else may have the same picture.
    const stranger = await ApiClient.register(stack.baseUrl);
    expect((await stranger.upload([file], {}, { detectDuplicates: true })).status).toBe(201);
    // Once the user's copies are gone, it is new again.
    for (const job of (await user.list()).body.items)
      expect((await user.request('DELETE', `/api/jobs/${job.id}?permanent=true`)).status).toBe(204);
    expect((await user.upload([file], {}, { detectDuplicates: true })).status).toBe(201);
  });
});
