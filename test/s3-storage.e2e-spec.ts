import { GetObjectCommand } from '@aws-sdk/client-s3';
import sharp from 'sharp';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ApiClient } from './support/client';
import { smallVideos } from './support/ffmpeg';
import { media } from './support/media';
import { S3RVER_CREDENTIALS, S3TestServer } from './support/s3-server';
import { TestStack } from './support/stack';

jest.setTimeout(120_000);

const MiB = 1024 * 1024;

/**
 * STORAGE_URL=s3://… end to end: the built api and worker talk to a real S3-protocol server
 * (s3rver) and share nothing but the bucket, Redis and the SQLite file. They run in different
 * working directories with different temp folders, so a file written locally by either (rather
 * than to the bucket) would show up.
 */
describe('object storage (api and worker on an S3 bucket, in separate folders)', () => {
  const bucket = 'thumbs-e2e';
  let s3: S3TestServer;
  let stack: TestStack;
  let base: string;
  const dirs = { apiCwd: '', workerCwd: '', apiTmp: '', workerTmp: '' };

  beforeAll(async () => {
    s3 = await S3TestServer.start();
    base = fs.mkdtempSync(path.join(os.tmpdir(), 'thumbs-s3-e2e-'));
    for (const name of Object.keys(dirs) as (keyof typeof dirs)[]) {
      dirs[name] = path.join(base, name);
      fs.mkdirSync(dirs[name]);
    }
    stack = await TestStack.start({
      noApi: true,
      workers: 0,
      env: {
        // The bucket does not exist yet: the first process to use it creates it.
        STORAGE_URL: s3.storageUrl(bucket),
        AWS_ACCESS_KEY_ID: S3RVER_CREDENTIALS.accessKeyId,
        AWS_SECRET_ACCESS_KEY: S3RVER_CREDENTIALS.secretAccessKey,
        // Shared by both processes whatever their working directory.
        DATABASE_URL: `sqlite:${path.join(base, 'thumbs.db')}`,
        JWT_SECRET: randomBytes(48).toString('base64url'),
        // Each process's default ./data (secret, files) is then inside its own working directory.
        DATA_DIR: '',
        MAX_UPLOAD_BYTES: String(6 * MiB),
      },
    });
    await stack.startApi({ CWD: dirs.apiCwd, TMPDIR: dirs.apiTmp });
    await stack.startWorker({ CWD: dirs.workerCwd, TMPDIR: dirs.workerTmp });
  });

  afterAll(async () => {
    await stack?.stop();
    await s3?.stop();
    if (base) fs.rmSync(base, { recursive: true, force: true });
  });

  it('created the missing bucket at start-up', async () => {
    expect(await s3.keys(bucket)).toEqual([]);
    const logs = [...stack.api!.lines, ...stack.workers[0].lines].join('\n');
    expect(logs).toMatch(new RegExp(`Created bucket \\\\?"${bucket}\\\\?"`));
  });

  it('keeps originals and thumbnails in the bucket, serves thumbnails from it, and deletes them from it', async () => {
    const alice = await ApiClient.register(stack.baseUrl);
    const [video] = smallVideos(['clip.mp4']);
    const jobs = await alice.uploadOk([await media.jpeg(640, 480, '#3a7bd5'), await media.pngWithAlpha(), video]);
    expect(jobs.map((job) => job.originalFilename)).toEqual(['photo.jpg', 'logo.png', 'clip.mp4']);

    for (const job of jobs) {
      const done = await alice.waitFor(job.id);
      expect(done).toMatchObject({ status: 'completed', errorMessage: null });
      const signed = await alice.fetchBytes(done.thumbnailUrl!);
      expect(signed.status).toBe(200);
      expect(signed.headers.get('content-type')).toBe('image/jpeg');
      expect(await sharp(signed.data).metadata()).toMatchObject({ format: 'jpeg', width: 128, height: 128 });
      // The api streamed exactly the object the worker put in the bucket.
      expect(signed.data.equals(await s3Object(`processed/${job.id}/thumb.jpg`))).toBe(true);
    }

    const keys = await s3.keys(bucket);
    for (const job of jobs) expect(keys).toEqual(expect.arrayContaining([`uploads/${job.id}`, `processed/${job.id}/thumb.jpg`]));
    const uploaded = await s3Object(`uploads/${jobs[0].id}`);
    expect(uploaded.subarray(0, 3)).toEqual(Buffer.from([0xff, 0xd8, 0xff]));

    // Nothing landed in either process's local storage, and the worker's downloads are gone.
    for (const cwd of [dirs.apiCwd, dirs.workerCwd]) expect(fs.existsSync(path.join(cwd, 'data', 'files'))).toBe(false);
    for (const tmp of [dirs.apiTmp, dirs.workerTmp])
      expect(fs.readdirSync(tmp).filter((name) => name.startsWith('thumbs-s3-'))).toEqual([]);

    expect((await alice.request('DELETE', `/api/jobs/${jobs[1].id}?permanent=true`)).status).toBe(204);
    const after = await waitForKeys((current) => !current.some((key) => key.includes(jobs[1].id)));
    expect(after).toEqual(expect.arrayContaining([`uploads/${jobs[0].id}`, `processed/${jobs[0].id}/thumb.jpg`]));
  });

  it('rejects a file over MAX_UPLOAD_BYTES after streaming part of it to the bucket, leaving no object and no unfinished upload', async () => {
    const bob = await ApiClient.register(stack.baseUrl);
    const before = await s3.keys(bucket);
    // A JPEG header (accepted by type), then 12 MiB: more than two multipart parts get under way.
    const big = Buffer.concat([(await media.jpeg(64, 64)).data.subarray(0, 4096), randomBytes(12 * MiB)]);
    const response = await bob.upload([{ name: 'huge.jpg', type: 'image/jpeg', data: big }, await media.jpeg(100, 100)]);
    expect(response.status).toBe(201);
    expect(response.body.rejected).toEqual([expect.objectContaining({ originalFilename: 'huge.jpg', code: 'too_large' })]);
    expect(response.body.jobs).toHaveLength(1);
    await bob.waitFor(response.body.jobs[0].id);

    const keys = await s3.keys(bucket);
    expect(keys.filter((key) => !before.includes(key)).sort()).toEqual(
      [`processed/${response.body.jobs[0].id}/thumb.jpg`, `uploads/${response.body.jobs[0].id}`].sort(),
    );
    expect(await s3.pendingUploads(bucket)).toEqual([]);
  });

  async function s3Object(key: string): Promise<Buffer> {
    const client = s3.client();
    try {
      const object = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      return Buffer.from(await object.Body!.transformToByteArray());
    } finally {
      client.destroy();
    }
  }

  async function waitForKeys(done: (keys: string[]) => boolean, timeoutMs = 10_000): Promise<string[]> {
    const deadline = Date.now() + timeoutMs;
    let keys = await s3.keys(bucket);
    while (!done(keys)) {
      if (Date.now() > deadline) throw new Error(`bucket did not reach the expected state: ${JSON.stringify(keys)}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
      keys = await s3.keys(bucket);
    }
    return keys;
  }
});
