import * as fs from 'node:fs';
import * as path from 'node:path';
import sharp from 'sharp';
import { formatBytes } from '@app/jobs';
import type { Rejected, UploadResult } from '@app/shared';
import { ApiClient, UploadFile } from './support/client';
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
 * streaming and across racing requests.
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
    expect((await user.upload([padded(a, 0, 'again.jpg')])).status).toBe(400);
    expect((await user.request('DELETE', `/api/jobs/${first.id}?permanent=true`)).status).toBe(204);
    const again = await user.upload([padded(a, 0, 'again.jpg')]);
    expect(again.status).toBe(201);
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
    const second = padded(c, 0, 'second.jpg');
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
