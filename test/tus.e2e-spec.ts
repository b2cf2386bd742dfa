import { GetObjectCommand } from '@aws-sdk/client-s3';
import * as fs from 'node:fs';
import * as path from 'node:path';
import sharp from 'sharp';
import * as tusClient from 'tus-js-client';
import { ApiClient } from './support/client';
import { media } from './support/media';
import { S3RVER_CREDENTIALS, S3TestServer } from './support/s3-server';
import { TestStack } from './support/stack';

jest.setTimeout(240_000);

const MAX_UPLOAD_BYTES = 4 * 1024 * 1024;
const CHUNK = 128 * 1024;

/** A tus 1.0 client written out with fetch, so each request (and each cut) is the test's own. */
class Tus {
  constructor(
    private readonly baseUrl: string,
    private readonly token: string,
  ) {}

  async create(length: number, metadata: Record<string, string>): Promise<globalThis.Response> {
    return this.send('POST', '/api/uploads', {
      'Upload-Length': String(length),
      'Upload-Metadata': Object.entries(metadata)
        .map(([key, value]) => `${key} ${Buffer.from(value).toString('base64')}`)
        .join(','),
    });
  }

  head(location: string): Promise<globalThis.Response> {
    return this.send('HEAD', location);
  }

  patch(location: string, offset: number, body: Buffer | ReadableStream<Uint8Array>, signal?: AbortSignal): Promise<globalThis.Response> {
    return this.send(
      'PATCH',
      location,
      { 'Upload-Offset': String(offset), 'Content-Type': 'application/offset+octet-stream' },
      body,
      signal,
    );
  }

  terminate(location: string): Promise<globalThis.Response> {
    return this.send('DELETE', location);
  }

  /** PATCHes `data` from `offset` to its end in chunks; returns the last response. */
  async patchFrom(location: string, data: Buffer, offset: number): Promise<globalThis.Response> {
    let response: globalThis.Response | undefined;
    for (let at = offset; at < data.length; at += CHUNK) {
      response = await this.patch(location, at, data.subarray(at, Math.min(at + CHUNK, data.length)));
      if (response.status !== 204) return response;
      expect(Number(response.headers.get('upload-offset'))).toBe(Math.min(at + CHUNK, data.length));
    }
    return response!;
  }

  async offset(location: string): Promise<number> {
    const response = await this.head(location);
    expect(response.status).toBe(200);
    return Number(response.headers.get('upload-offset'));
  }

  private send(
    method: string,
    pathOrUrl: string,
    headers: Record<string, string> = {},
    body?: Buffer | ReadableStream<Uint8Array>,
    signal?: AbortSignal,
  ): Promise<globalThis.Response> {
    return fetch(new URL(pathOrUrl, this.baseUrl), {
      method,
      headers: { 'Tus-Resumable': '1.0.0', authorization: `Bearer ${this.token}`, ...headers },
      body,
      signal,
      ...(body instanceof ReadableStream ? { duplex: 'half' } : {}),
    });
  }
}

/** A noisy PNG of about 1 MiB: several chunks, and the worker can make a thumbnail of it. */
async function largePng(): Promise<Buffer> {
  const width = 600;
  const height = 500;
  const raw = Buffer.alloc(width * height * 3);
  let seed = 12345;
  for (let i = 0; i < raw.length; i += 1) {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    raw[i] = seed >> 16;
  }
  return sharp(raw, { raw: { width, height, channels: 3 } })
    .png({ compressionLevel: 0 })
    .toBuffer();
}

/** A PATCH whose connection is cut after `bytes` of `data` went out (the client goes away mid-request). */
async function cutPatch(tus: Tus, location: string, offset: number, data: Buffer, bytes: number): Promise<void> {
  const controller = new AbortController();
  const piece = data.subarray(offset, offset + bytes);
  const stream = new ReadableStream<Uint8Array>({
    start(streamController) {
      streamController.enqueue(new Uint8Array(piece));
      // Never closed: the request is left hanging half-sent until it is aborted.
    },
  });
  const answer = tus.patch(location, offset, stream, controller.signal).catch((error: unknown) => error);
  await new Promise((resolve) => setTimeout(resolve, 500));
  controller.abort();
  await answer;
}

async function waitForOffset(tus: Tus, location: string, atLeast: number, timeoutMs = 20_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let offset = -1;
  while (Date.now() < deadline) {
    offset = await tus.offset(location);
    if (offset >= atLeast) return offset;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`offset stayed at ${offset}`);
}

describe('tus resumable uploads at /api/uploads (built api and worker, real HTTP)', () => {
  let stack: TestStack;
  let user: ApiClient;
  let tus: Tus;

  beforeAll(async () => {
    stack = await TestStack.start({ workers: 1, env: { MAX_UPLOAD_BYTES: String(MAX_UPLOAD_BYTES) } });
    user = await ApiClient.register(stack.baseUrl);
    tus = new Tus(stack.baseUrl, user.token);
  });

  afterAll(async () => {
    await stack?.stop();
  });

  it('uploads in chunks, survives a cut connection and an api restart, and makes a job of the byte-identical file', async () => {
    const data = await largePng();
    expect(data.length).toBeGreaterThan(6 * CHUNK);
    const created = await tus.create(data.length, { filename: 'noise.png', filetype: 'image/png' });
    expect(created.status).toBe(201);
    const location = created.headers.get('location')!;
    expect(location).toMatch(/^\/api\/uploads\/[0-9a-f]{32}$/);

    // Two whole chunks, then a request cut after part of the third.
    expect((await tus.patch(location, 0, data.subarray(0, CHUNK))).status).toBe(204);
    expect((await tus.patch(location, CHUNK, data.subarray(CHUNK, 2 * CHUNK))).status).toBe(204);
    await cutPatch(tus, location, 2 * CHUNK, data, CHUNK / 2);
    const afterCut = await waitForOffset(tus, location, 2 * CHUNK);
    expect(afterCut).toBeLessThan(data.length);
    // A PATCH at a stale offset is refused without changing anything.
    expect((await tus.patch(location, 0, data.subarray(0, 10))).status).toBe(409);

    // Resume from the server's offset for one chunk, then restart the api and go on from HEAD again.
    expect((await tus.patch(location, afterCut, data.subarray(afterCut, afterCut + CHUNK))).status).toBe(204);
    await stack.api!.stop();
    await stack.startApi();
    const afterRestart = await tus.offset(location);
    expect(afterRestart).toBe(afterCut + CHUNK);

    const last = await tus.patchFrom(location, data, afterRestart);
    expect(last.status).toBe(204);
    const jobId = last.headers.get('thumbs-job-id');
    expect(jobId).toMatch(/^[0-9a-f-]{36}$/);
    const job = await user.waitFor(jobId!, ['completed', 'failed'], 90_000);
    expect(job).toMatchObject({ status: 'completed', originalFilename: 'noise.png', mimeType: 'image/png', fileSize: data.length });

    // The same content again, without allowDuplicates: the last PATCH refuses it as the multipart route does.
    const again = await tus.create(data.length, { filename: 'again.png', filetype: 'image/png' });
    const refused = await tus.patchFrom(again.headers.get('location')!, data, 0);
    expect(refused.status).toBe(422);
    expect(await refused.json()).toMatchObject({ code: 'duplicate', existingJobId: jobId, originalFilename: 'again.png' });
    // The original as the storage driver keeps it (STORAGE_URL=file:<dir>/files, key uploads/<job id>).
    const original = fs.readFileSync(path.join(stack.dir, 'files', 'uploads', job.id));
    expect(original.equals(data)).toBe(true);
    // The finished upload is gone from the tus side.
    expect((await tus.head(location)).status).toBe(404);
    expect(fs.readdirSync(path.join(stack.dir, 'tus'))).toEqual([]);
  });

  it('refuses a file over MAX_UPLOAD_BYTES from its Upload-Length with 413 and a Rejected body', async () => {
    const response = await tus.create(MAX_UPLOAD_BYTES + 1, { filename: 'big.mp4', filetype: 'video/mp4' });
    expect(response.status).toBe(413);
    expect(await response.json()).toMatchObject({
      statusCode: 413,
      originalFilename: 'big.mp4',
      code: 'too_large',
      message: expect.stringContaining('4 MiB'),
    });
  });

  it('takes the optional position metadata for the job (400 for an unknown one, or an allowDuplicates neither true nor false), a whole file in one PATCH', async () => {
    const jpeg = (await media.jpeg()).data;
    expect((await tus.create(jpeg.length, { filename: 'a.jpg', filetype: 'image/jpeg', position: 'sideways' })).status).toBe(400);
    const maybe = await tus.create(jpeg.length, { filename: 'a.jpg', filetype: 'image/jpeg', allowDuplicates: 'maybe' });
    expect(maybe.status).toBe(400);
    expect(await maybe.json()).toEqual({ statusCode: 400, error: 'Bad Request', message: 'allowDuplicates must be true or false' });
    const created = await tus.create(jpeg.length, { filename: 'a.jpg', filetype: 'image/jpeg', position: 'entropy' });
    expect(created.status).toBe(201);
    const done = await tus.patch(created.headers.get('location')!, 0, jpeg);
    expect(done.status).toBe(204);
    const job = await user.waitFor(done.headers.get('thumbs-job-id')!);
    expect(job).toMatchObject({ status: 'completed', position: 'entropy', originalFilename: 'a.jpg' });
  });

  it("answers tus's own protocol errors in the api's JSON error shape (invalid or missing header 400, wrong type 415, no Tus-Resumable 412)", async () => {
    const created = await tus.create(100, { filename: 'a.png', filetype: 'image/png' });
    const location = created.headers.get('location')!;
    const invalid = await fetch(new URL(location, stack.baseUrl), {
      method: 'PATCH',
      headers: {
        'Tus-Resumable': '1.0.0',
        authorization: `Bearer ${user.token}`,
        'Upload-Offset': 'abc',
        'Content-Type': 'application/offset+octet-stream',
      },
      body: Buffer.alloc(10),
    });
    expect(invalid.status).toBe(400);
    expect(invalid.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await invalid.json()).toEqual({ statusCode: 400, error: 'Bad Request', message: 'Invalid upload-offset' });
    // tus itself says 403 to these: malformed requests, not forbidden ones.
    const patch = (headers: Record<string, string>) =>
      fetch(new URL(location, stack.baseUrl), {
        method: 'PATCH',
        headers: { 'Tus-Resumable': '1.0.0', authorization: `Bearer ${user.token}`, ...headers },
        body: Buffer.alloc(10),
      });
    const noOffset = await patch({ 'Content-Type': 'application/offset+octet-stream' });
    expect([noOffset.status, await noOffset.json()]).toEqual([
      400,
      { statusCode: 400, error: 'Bad Request', message: 'Upload-Offset header required' },
    ]);
    for (const type of ['text/plain', 'application/octet-stream', undefined]) {
      const wrongType = await patch({ 'Upload-Offset': '0', ...(type ? { 'Content-Type': type } : {}) });
      expect([type, wrongType.status, ((await wrongType.json()) as { statusCode: number }).statusCode]).toEqual([type, 415, 415]);
    }
    expect((await tus.head(location)).headers.get('upload-offset')).toBe('0');
    const unversioned = await fetch(new URL(location, stack.baseUrl), {
      method: 'HEAD',
      headers: { authorization: `Bearer ${user.token}` },
    });
    expect(unversioned.status).toBe(412);
    const noVersion = await fetch(new URL('/api/uploads', stack.baseUrl), {
      method: 'POST',
      headers: { authorization: `Bearer ${user.token}`, 'Upload-Length': '10' },
    });
    expect(noVersion.status).toBe(412);
    expect(await noVersion.json()).toEqual({ statusCode: 412, error: 'Precondition Failed', message: 'Tus-Resumable Required' });
  });

  it('takes a TIFF whose directory comes after its pixels (as libvips writes one), its first bytes in a small PATCH', async () => {
    const tiff = await sharp({ create: { width: 300, height: 300, channels: 3, background: '#3366cc' } })
      .tiff({ compression: 'none' })
      .toBuffer();
    expect(tiff.readUInt32LE(4)).toBeGreaterThan(200_000);
    const created = await tus.create(tiff.length, { filename: 'scan.tiff', filetype: 'image/tiff' });
    const location = created.headers.get('location')!;
    expect((await tus.patch(location, 0, tiff.subarray(0, 1024))).status).toBe(204);
    const done = await tus.patchFrom(location, tiff, 1024);
    expect(done.status).toBe(204);
    const job = await user.waitFor(done.headers.get('thumbs-job-id')!);
    expect(job).toMatchObject({ status: 'completed', mimeType: 'image/tiff', width: 300, height: 300 });
  });

  it('refuses what is not media from its first bytes (415) and what contradicts its name (422), and removes the upload', async () => {
    const text = Buffer.from('just some notes, not a picture\n'.repeat(400));
    const created = await tus.create(text.length, { filename: 'notes.txt', filetype: 'text/plain' });
    expect(created.status).toBe(201);
    const location = created.headers.get('location')!;
    // The first bytes arrive in two requests; the check waits for enough of them.
    expect((await tus.patch(location, 0, text.subarray(0, 1000))).status).toBe(204);
    const refused = await tus.patch(location, 1000, text.subarray(1000));
    expect(refused.status).toBe(415);
    expect(await refused.json()).toMatchObject({ originalFilename: 'notes.txt', code: 'unsupported_type', message: expect.any(String) });
    expect((await tus.head(location)).status).toBe(404);

    const jpeg = (await media.jpeg()).data;
    const mismatch = await tus.create(jpeg.length, { filename: 'clip.mp4', filetype: 'video/mp4' });
    const mismatchAt = mismatch.headers.get('location')!;
    const answer = await tus.patch(mismatchAt, 0, jpeg);
    expect(answer.status).toBe(422);
    expect(await answer.json()).toMatchObject({ originalFilename: 'clip.mp4', code: 'type_mismatch' });
    expect((await tus.head(mismatchAt)).status).toBe(404);
    expect((await user.list()).body.items.map((job) => job.originalFilename)).not.toContain('clip.mp4');
  });

  it('keeps each upload to its creator (404 for anyone else) and removes it on termination', async () => {
    const data = await largePng();
    const created = await tus.create(data.length, { filename: 'mine.png', filetype: 'image/png' });
    const location = created.headers.get('location')!;
    expect((await tus.patch(location, 0, data.subarray(0, CHUNK))).status).toBe(204);

    const other = await ApiClient.register(stack.baseUrl);
    const stranger = new Tus(stack.baseUrl, other.token);
    expect((await stranger.head(location)).status).toBe(404);
    expect((await stranger.patch(location, CHUNK, data.subarray(CHUNK, 2 * CHUNK))).status).toBe(404);
    expect((await stranger.terminate(location)).status).toBe(404);
    expect(await tus.offset(location)).toBe(CHUNK);

    const anonymous = await fetch(new URL(location, stack.baseUrl), { method: 'HEAD', headers: { 'Tus-Resumable': '1.0.0' } });
    expect(anonymous.status).toBe(401);

    expect((await tus.terminate(location)).status).toBe(204);
    expect((await tus.head(location)).status).toBe(404);
    const id = location.split('/').pop()!;
    expect(fs.existsSync(path.join(stack.dir, 'tus', id))).toBe(false);
  });

  it("acts only on the upload whose owner was checked: another user's id behind a query string is not reachable", async () => {
    const data = await largePng();
    const victim = await tus.create(data.length, { filename: 'secret.png', filetype: 'image/png', allowDuplicates: 'true' });
    const victimLocation = victim.headers.get('location')!;
    expect((await tus.patch(victimLocation, 0, data.subarray(0, CHUNK))).status).toBe(204);
    const victimId = victimLocation.split('/').pop()!;

    const other = await ApiClient.register(stack.baseUrl);
    const attacker = new Tus(stack.baseUrl, other.token);
    const own = (await attacker.create(data.length, { filename: 'own.png', filetype: 'image/png' })).headers.get('location')!;
    // tus reads the id from the last segment of the whole URL, query string included.
    const smuggled = `${own}?x=/${victimId}`;
    const head = await attacker.head(smuggled);
    expect(head.status).toBe(200);
    expect(head.headers.get('upload-offset')).toBe('0'); // the attacker's own upload, not the victim's
    expect(head.headers.get('upload-metadata') ?? '').not.toContain(Buffer.from('secret.png').toString('base64'));
    expect((await attacker.patch(smuggled, CHUNK, data.subarray(CHUNK))).status).toBe(409); // own offset is 0
    expect((await attacker.terminate(`${own}?x=/${victimId}`)).status).toBe(204);
    expect(await tus.offset(victimLocation)).toBe(CHUNK);

    // The rest goes up; the job is the victim's alone.
    const last = await tus.patchFrom(victimLocation, data, CHUNK);
    expect(last.status).toBe(204);
    const jobId = last.headers.get('thumbs-job-id')!;
    expect((await user.job(jobId)).status).toBe(200);
    expect((await other.job(jobId)).status).toBe(404);
  });

  it('HEAD answers the metadata the client sent, not the server’s own (the owner)', async () => {
    const created = await tus.create(100, { filename: 'meta.png', filetype: 'image/png' });
    const location = created.headers.get('location')!;
    const metadata = (await tus.head(location)).headers.get('upload-metadata') ?? '';
    const keys = metadata.split(',').map((pair) => pair.trim().split(' ')[0]);
    expect(keys.sort()).toEqual(['filename', 'filetype']);
    expect(metadata).not.toContain(Buffer.from(user.user.id).toString('base64'));
    expect((await tus.terminate(location)).status).toBe(204);
  });

  it('creation-with-upload of a whole file answers 201 with the job, once; discovery offers only what is accepted', async () => {
    const data = (await media.jpeg()).data;
    const response = await fetch(new URL('/api/uploads', stack.baseUrl), {
      method: 'POST',
      headers: {
        'Tus-Resumable': '1.0.0',
        authorization: `Bearer ${user.token}`,
        'Upload-Length': String(data.length),
        'Upload-Metadata': [
          `filename ${Buffer.from('whole.jpg').toString('base64')}`,
          `filetype ${Buffer.from('image/jpeg').toString('base64')}`,
          `allowDuplicates ${Buffer.from('true').toString('base64')}`,
        ].join(','),
        'Content-Type': 'application/offset+octet-stream',
      },
      body: data,
    });
    expect(response.status).toBe(201);
    expect(response.headers.get('upload-offset')).toBe(String(data.length));
    const jobId = response.headers.get('thumbs-job-id');
    expect(jobId).toMatch(/^[0-9a-f-]{36}$/);
    const job = await user.waitFor(jobId!, ['completed', 'failed'], 60_000);
    expect(job).toMatchObject({ status: 'completed', originalFilename: 'whole.jpg' });
    expect((await tus.head(response.headers.get('location')!)).status).toBe(404);

    const options = await fetch(new URL('/api/uploads', stack.baseUrl), { method: 'OPTIONS' });
    const extensions = (options.headers.get('tus-extension') ?? '').split(',');
    expect(extensions).toEqual(expect.arrayContaining(['creation', 'creation-with-upload', 'termination', 'expiration']));
    expect(extensions).not.toContain('creation-defer-length');
    const deferred = await fetch(new URL('/api/uploads', stack.baseUrl), {
      method: 'POST',
      headers: { 'Tus-Resumable': '1.0.0', authorization: `Bearer ${user.token}`, 'Upload-Defer-Length': '1' },
    });
    expect(deferred.status).toBe(400);
    // Unfinished uploads are closed to other accounts on the machine.
    expect(fs.statSync(path.join(stack.dir, 'tus')).mode & 0o007).toBe(0);
  });

  it('counts unfinished uploads against the quota from creation, and allows 50 at once per user', async () => {
    const quota = await TestStack.start({ workers: 0, env: { USER_QUOTA_BYTES: String(3 * 1024 * 1024) } });
    try {
      const owner = await ApiClient.register(quota.baseUrl);
      const client = new Tus(quota.baseUrl, owner.token);
      const twoMiB = 2 * 1024 * 1024;
      const first = await client.create(twoMiB, { filename: 'a.png', filetype: 'image/png' });
      expect(first.status).toBe(201);
      const second = await client.create(twoMiB, { filename: 'b.png', filetype: 'image/png' });
      expect(second.status).toBe(413);
      expect(await second.json()).toMatchObject({
        code: 'quota_exceeded',
        message: expect.stringMatching(/held by unfinished uploads/) as unknown,
      });
      // Another user is not affected; ending the first upload frees its share.
      const other = new Tus(quota.baseUrl, (await ApiClient.register(quota.baseUrl)).token);
      expect((await other.create(twoMiB, { filename: 'c.png', filetype: 'image/png' })).status).toBe(201);
      expect((await client.terminate(first.headers.get('location')!)).status).toBe(204);
      const third = await client.create(twoMiB, { filename: 'b.png', filetype: 'image/png' });
      expect(third.status).toBe(201);
      // A refusal from the first bytes frees it too.
      const refused = await client.patch(third.headers.get('location')!, 0, Buffer.from('%PDF-1.7 not an image at all'.padEnd(8192, ' ')));
      expect(refused.status).toBe(415);
      expect((await client.create(twoMiB, { filename: 'd.png', filetype: 'image/png' })).status).toBe(201);

      // However small, at most 50 unfinished uploads per user.
      const many = new Tus(quota.baseUrl, (await ApiClient.register(quota.baseUrl)).token);
      const made: string[] = [];
      for (let i = 0; i < 50; i += 1) {
        const response = await many.create(100, { filename: `${i}.png`, filetype: 'image/png' });
        expect(response.status).toBe(201);
        made.push(response.headers.get('location')!);
      }
      const over = await many.create(100, { filename: 'over.png', filetype: 'image/png' });
      expect(over.status).toBe(429);
      expect(await over.json()).toMatchObject({ statusCode: 429, message: expect.stringMatching(/50 unfinished uploads/) as unknown });
      expect((await many.terminate(made[0])).status).toBe(204);
      expect((await many.create(100, { filename: 'again.png', filetype: 'image/png' })).status).toBe(201);
    } finally {
      await quota.stop();
    }
  });

  it('works with tus-js-client as the web app drives it (relative Location, metadata, pause and resume, Thumbs-Job-Id, Rejected bodies)', async () => {
    const discovery = await fetch(`${stack.baseUrl}/api/uploads`, { method: 'OPTIONS' });
    expect(discovery.status).toBe(204);
    expect(discovery.headers.get('tus-version')).toContain('1.0.0');
    expect(discovery.headers.get('tus-extension')).toContain('termination');

    const data = await largePng();
    let jobId: string | null = null;
    const options = (onProgress: (sent: number) => void, done: () => void, failed: (error: Error) => void): tusClient.UploadOptions => ({
      endpoint: `${stack.baseUrl}/api/uploads`,
      chunkSize: CHUNK,
      retryDelays: [],
      // The same picture as the first test's: uploaded again on purpose, as "upload anyway" does.
      metadata: { filename: 'client.png', filetype: 'image/png', allowDuplicates: 'true' },
      onBeforeRequest: (request) => request.setHeader('Authorization', `Bearer ${user.token}`),
      onAfterResponse: (_request, response) => {
        jobId = response.getHeader('Thumbs-Job-Id') ?? jobId;
      },
      onProgress,
      onSuccess: done,
      onError: failed,
    });
    // Paused (aborted) once past two chunks, then started again: it goes on from the server's offset.
    let paused = false;
    await new Promise<void>((resolve, reject) => {
      const upload = new tusClient.Upload(
        data,
        options(
          (sent) => {
            if (!paused && sent >= 2 * CHUNK) {
              paused = true;
              void upload.abort(false).then(() => setTimeout(() => upload.start(), 200));
            }
          },
          resolve,
          reject,
        ),
      );
      upload.start();
    });
    expect(paused).toBe(true);
    expect(jobId).toMatch(/^[0-9a-f-]{36}$/);
    expect((await user.waitFor(jobId!, ['completed', 'failed'], 90_000)).status).toBe('completed');
    expect(fs.readFileSync(path.join(stack.dir, 'files', 'uploads', jobId!)).equals(data)).toBe(true);

    // A refusal reaches the client with the body the web app reads (JSON in originalResponse).
    const refusal = await new Promise<tusClient.DetailedError>((resolve, reject) => {
      const upload = new tusClient.Upload(Buffer.from('%PDF-1.7\n' + 'x'.repeat(5000)), {
        ...options(
          () => undefined,
          () => reject(new Error('a PDF was accepted')),
          resolve as (error: Error) => void,
        ),
        metadata: { filename: 'paper.pdf', filetype: 'application/pdf' },
      });
      upload.start();
    });
    expect(refusal.originalResponse?.getStatus()).toBe(415);
    expect(JSON.parse(refusal.originalResponse!.getBody())).toMatchObject({ code: 'unsupported_type', originalFilename: 'paper.pdf' });
  });

  it('is in the OpenAPI document, where the web app looks for it', async () => {
    const document = (await (await fetch(`${stack.baseUrl}/api/docs-json`)).json()) as { paths: Record<string, Record<string, unknown>> };
    expect(Object.keys(document.paths['/api/uploads'])).toEqual(expect.arrayContaining(['post', 'options']));
    expect(Object.keys(document.paths['/api/uploads/{id}'])).toEqual(expect.arrayContaining(['head', 'patch', 'delete']));
  });
});

describe('tus expiry (TUS_EXPIRY) and CORS (CORS_ORIGINS)', () => {
  it('removes an unfinished upload once it has expired, from disk and from HEAD; lets an allowed origin read the tus headers', async () => {
    const origin = 'http://app.example.test';
    const stack = await TestStack.start({ workers: 0, env: { TUS_EXPIRY: '2s', CORS_ORIGINS: origin } });
    try {
      const user = await ApiClient.register(stack.baseUrl);
      const tus = new Tus(stack.baseUrl, user.token);
      const data = await largePng();
      const fromApp = await fetch(`${stack.baseUrl}/api/uploads`, {
        method: 'POST',
        headers: { 'Tus-Resumable': '1.0.0', 'Upload-Length': String(data.length), authorization: `Bearer ${user.token}`, origin },
      });
      expect(fromApp.status).toBe(201);
      expect(fromApp.headers.get('access-control-allow-origin')).toBe(origin);
      const exposed = (fromApp.headers.get('access-control-expose-headers') ?? '').toLowerCase();
      for (const header of ['location', 'upload-offset', 'thumbs-job-id']) expect(exposed).toContain(header);
      const fromElsewhere = await tus.create(1, { filename: 'x.png' });
      expect(fromElsewhere.headers.get('access-control-allow-origin')).toBeNull();

      const created = await tus.create(data.length, { filename: 'left.png', filetype: 'image/png' });
      expect(created.headers.get('upload-expires')).toBeTruthy();
      const location = created.headers.get('location')!;
      expect((await tus.patch(location, 0, data.subarray(0, CHUNK))).status).toBe(204);
      const id = location.split('/').pop()!;
      const file = path.join(stack.dir, 'tus', id);
      expect(fs.existsSync(file)).toBe(true);
      const deadline = Date.now() + 30_000;
      while (fs.existsSync(file) || fs.existsSync(`${file}.json`)) {
        if (Date.now() > deadline) throw new Error('the expired upload was not removed within 30 s');
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      expect((await tus.head(location)).status).toBe(404);
    } finally {
      await stack.stop();
    }
  });
});

describe('tus with STORAGE_URL=s3://… (partial uploads on local disk, the finished file in the bucket)', () => {
  it('uploads in chunks across an api restart and puts the byte-identical original in the bucket', async () => {
    const s3 = await S3TestServer.start();
    const bucket = 'thumbs-tus';
    let stack: TestStack | undefined;
    try {
      stack = await TestStack.start({
        workers: 1,
        env: {
          STORAGE_URL: s3.storageUrl(bucket),
          AWS_ACCESS_KEY_ID: S3RVER_CREDENTIALS.accessKeyId,
          AWS_SECRET_ACCESS_KEY: S3RVER_CREDENTIALS.secretAccessKey,
        },
      });
      const user = await ApiClient.register(stack.baseUrl);
      const tus = new Tus(stack.baseUrl, user.token);
      const data = await largePng();
      const created = await tus.create(data.length, { filename: 'bucket.png', filetype: 'image/png' });
      const location = created.headers.get('location')!;
      expect((await tus.patch(location, 0, data.subarray(0, 3 * CHUNK))).status).toBe(204);
      expect(fs.existsSync(path.join(stack.dir, 'tus', location.split('/').pop()!))).toBe(true);
      await stack.api!.stop();
      await stack.startApi();
      const last = await tus.patchFrom(location, data, await tus.offset(location));
      expect(last.status).toBe(204);
      const jobId = last.headers.get('thumbs-job-id')!;
      expect((await user.waitFor(jobId, ['completed', 'failed'], 90_000)).status).toBe('completed');
      const client = s3.client();
      try {
        const object = await client.send(new GetObjectCommand({ Bucket: bucket, Key: `uploads/${jobId}` }));
        expect(Buffer.from(await object.Body!.transformToByteArray()).equals(data)).toBe(true);
      } finally {
        client.destroy();
      }
      expect(fs.readdirSync(path.join(stack.dir, 'tus'))).toEqual([]);
    } finally {
      await stack?.stop();
      await s3.stop();
    }
  });
});
