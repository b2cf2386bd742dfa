import * as fs from 'node:fs';
import * as path from 'node:path';
import sharp from 'sharp';
import { adminCli } from './support/admin-cli';
import { ApiClient, request } from './support/client';
import { ChildApp } from './support/child-app';
import { media } from './support/media';
import { PrivateRedis } from './support/private-redis';
import { StatusSocket } from './support/sockets';
import { freePort, TestStack } from './support/stack';

jest.setTimeout(180_000);

/** Value of one sample in Prometheus text, 0 when absent. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  const wanted = Object.entries(labels);
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const match = /^([^{\s]+)(?:\{([^}]*)\})?\s+(\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const have = Object.fromEntries([...(match[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    if (wanted.every(([key, value]) => have[key] === value)) return Number(match[3]);
  }
  return 0;
}

describe('metrics, logs and headers (built api and worker)', () => {
  let stack: TestStack;
  let workerMetricsPort: number;

  beforeAll(async () => {
    workerMetricsPort = await freePort();
    stack = await TestStack.start({ workers: 1, env: { WORKER_METRICS_PORT: String(workerMetricsPort) } });
  });

  afterAll(async () => {
    await stack?.stop();
  });

  it('exposes /metrics on the api and the worker, and they move when a job runs', async () => {
    const scrape = async (url: string) => (await fetch(url)).text();
    const apiBefore = await scrape(`${stack.baseUrl}/metrics`);
    const workerBefore = await scrape(`http://127.0.0.1:${workerMetricsPort}/metrics`);
    const user = await ApiClient.register(stack.baseUrl);
    const file = await media.jpeg(300, 200);
    const [job, broken] = await user.uploadOk([file, media.brokenJpeg()]);
    await user.waitFor(job.id);
    await user.waitFor(broken.id);
    await user.upload([{ name: 'notes.txt', data: Buffer.from('hello') }]);
    const api = await scrape(`${stack.baseUrl}/metrics`);
    const worker = await scrape(`http://127.0.0.1:${workerMetricsPort}/metrics`);

    expect(
      sample(api, 'thumbs_uploads_total', { file_type: 'image' }) - sample(apiBefore, 'thumbs_uploads_total', { file_type: 'image' }),
    ).toBe(2);
    expect(
      sample(api, 'thumbs_upload_bytes_total', { file_type: 'image' }) -
        sample(apiBefore, 'thumbs_upload_bytes_total', { file_type: 'image' }),
    ).toBe(file.data.length + media.brokenJpeg().data.length);
    expect(sample(api, 'thumbs_upload_rejections_total', { code: 'unsupported_type' })).toBeGreaterThanOrEqual(1);
    expect(sample(api, 'thumbs_jobs', { status: 'completed', file_type: 'image' })).toBeGreaterThanOrEqual(1);
    expect(sample(api, 'thumbs_jobs', { status: 'failed', file_type: 'image' })).toBeGreaterThanOrEqual(1);
    expect(
      sample(api, 'thumbs_http_request_duration_seconds_count', { method: 'POST', route: '/api/upload', status: '201' }),
    ).toBeGreaterThanOrEqual(1);
    expect(sample(api, 'thumbs_workers')).toBe(1);
    expect(api).toMatch(/thumbs_queue_depth\{state="backlog"\} 0/);
    expect(api).toMatch(/process_resident_memory_bytes/);

    const finished = (outcome: string, text: string) => sample(text, 'thumbs_jobs_finished_total', { file_type: 'image', outcome });
    expect(finished('completed', worker) - finished('completed', workerBefore)).toBe(1);
    expect(finished('failed', worker) - finished('failed', workerBefore)).toBe(1);
    expect(sample(worker, 'thumbs_job_processing_seconds_count', { file_type: 'image', outcome: 'completed' })).toBeGreaterThanOrEqual(1);
    expect(sample(worker, 'thumbs_job_wait_seconds_count', { file_type: 'image' })).toBeGreaterThanOrEqual(2);
    expect(
      sample(worker, 'thumbs_job_failures_total', { file_type: 'image', reason: 'truncated' }) +
        sample(worker, 'thumbs_job_failures_total', { file_type: 'image', reason: 'undecodable' }),
    ).toBeGreaterThanOrEqual(1);

    const health = (await (await fetch(`http://127.0.0.1:${workerMetricsPort}/health`)).json()) as {
      status: string;
      details: { ffmpeg: { ffmpeg: { version: string } } };
    };
    expect(health.status).toBe('ok');
    expect(health.details.ffmpeg.ffmpeg.version).toMatch(/\d/);
  });

  it('carries the request id from the upload into the worker’s log lines for the job', async () => {
    const user = await ApiClient.register(stack.baseUrl);
    const response = await user.upload([await media.jpeg()], { 'x-request-id': 'trace-4242-abc' });
    expect(response.headers.get('x-request-id')).toBe('trace-4242-abc');
    const [job] = response.body.jobs;
    await user.waitFor(job.id);
    const lines = stack.workers[0].lines
      .filter((line) => line.includes(job.id))
      .map((line) => JSON.parse(line) as { requestId?: string; msg: string });
    expect(lines.length).toBeGreaterThanOrEqual(2);
    expect(lines.every((line) => line.requestId === 'trace-4242-abc')).toBe(true);
    const apiLine = stack.api!.lines.find((line) => line.includes('trace-4242-abc') && line.includes('/api/upload'));
    expect(apiLine).toBeDefined();
  });

  it('logs a failed job at warn, with its id and reason, without the file name', async () => {
    const user = await ApiClient.register(stack.baseUrl);
    const broken = { ...media.brokenJpeg(), name: 'private-scan-0042.jpg' };
    const [job] = await user.uploadOk([broken]);
    expect((await user.waitFor(job.id)).status).toBe('failed');
    const line = await stack.workers[0].waitForLine(new RegExp(`Job ${job.id} failed`));
    const logged = JSON.parse(line) as { level: number; jobId: string; reason: string; msg: string };
    // pino's levels: 30 info, 40 warn.
    expect(logged).toMatchObject({ level: 40, jobId: job.id, reason: expect.stringMatching(/^(undecodable|truncated)$/) });
    expect(logged.msg).toMatch(/^Job \S+ failed: The image file is /);
    expect(stack.workers[0].lines.filter((text) => text.includes('private-scan-0042'))).toEqual([]);
  });

  it('reports live workers and their ffmpeg in /api/health', async () => {
    const body = (await (await fetch(`${stack.baseUrl}/api/health`)).json()) as {
      status: string;
      details: Record<string, Record<string, unknown>>;
    };
    expect(body.status).toBe('ok');
    expect(body.details.database.status).toBe('up');
    expect(body.details.redis.status).toBe('up');
    expect(body.details.storage.status).toBe('up');
    expect(body.details.workers).toMatchObject({ status: 'up', count: 1 });
    const mediaTools = body.details.workers.media as { ffmpeg: { path: string; source: string; version: string } };
    expect(mediaTools.ffmpeg.source).toMatch(/env|system|npm/);
    expect(mediaTools.ffmpeg.version).toMatch(/\d/);
    expect((await fetch(`${stack.baseUrl}/api/health/live`)).status).toBe(200);
  });

  it('sends security headers and keeps secrets and tokens out of the logs', async () => {
    const response = await fetch(`${stack.baseUrl}/api/health`);
    expect(response.headers.get('content-security-policy')).toMatch(/default-src 'self'/);
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(response.headers.get('x-powered-by')).toBeNull();
    const user = await ApiClient.register(stack.baseUrl);
    await user.list();
    const [job] = await user.uploadOk([await media.jpeg()]);
    const done = await user.waitFor(job.id);
    await user.fetchBytes(done.thumbnailUrl!);
    // A tus upload's HEAD answers its Upload-Metadata (the file's name, the owner's id): not for the logs.
    const name = Buffer.from('private-holiday.jpg').toString('base64');
    const tus = { authorization: `Bearer ${user.token}`, 'Tus-Resumable': '1.0.0' };
    const created = await fetch(`${stack.baseUrl}/api/uploads`, {
      method: 'POST',
      headers: { ...tus, 'Upload-Length': '1000', 'Upload-Metadata': `filename ${name}` },
    });
    const location = new URL(created.headers.get('location')!, stack.baseUrl).href;
    expect((await fetch(location, { method: 'HEAD', headers: tus })).headers.get('upload-metadata')).toContain(name);
    await fetch(location, { method: 'DELETE', headers: tus });
    const secret = fs.readFileSync(path.join(stack.dir, 'jwt-secret'), 'utf8').trim();
    const sig = /sig=([^&]+)/.exec(done.thumbnailUrl!)![1];
    for (const line of [...stack.api!.lines, ...stack.workers[0].lines]) {
      expect(line).not.toContain(secret);
      expect(line).not.toContain(user.token);
      expect(line).not.toContain(sig);
      expect(line).not.toContain(name);
    }
    // Responses are still logged, with their status.
    expect(stack.api!.lines.some((line) => line.includes('"statusCode":200') && line.includes('"method":"HEAD"'))).toBe(true);
  });
});

describe('METRICS_TOKEN', () => {
  it('keeps /metrics of the api and of a worker, and the tools in health, for Bearer <token>; health stays open', async () => {
    const workerMetricsPort = await freePort();
    const token = 'scrape-secret-1234';
    const stack = await TestStack.start({ workers: 1, env: { WORKER_METRICS_PORT: String(workerMetricsPort), METRICS_TOKEN: token } });
    try {
      for (const url of [`${stack.baseUrl}/metrics`, `http://127.0.0.1:${workerMetricsPort}/metrics`]) {
        expect((await fetch(url)).status).toBe(404);
        expect((await fetch(url, { headers: { authorization: `Bearer ${token}x` } })).status).toBe(404);
        const allowed = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
        expect(allowed.status).toBe(200);
        expect(await allowed.text()).toMatch(/^# HELP /m);
      }
      // Health stays open to a load balancer, without the tools' paths and versions.
      const read = async (url: string, authorization?: string) => {
        const response = await fetch(url, { headers: authorization ? { authorization } : {} });
        expect(response.status).toBe(200);
        return (await response.json()) as { details: Record<string, Record<string, unknown>> };
      };
      const apiHealth = `${stack.baseUrl}/api/health`;
      const workerHealth = `http://127.0.0.1:${workerMetricsPort}/health`;
      expect((await read(apiHealth)).details.workers).toEqual({ status: 'up', count: 1 });
      expect((await read(apiHealth, `Bearer ${token}x`)).details.workers.media).toBeUndefined();
      const detailed = (await read(apiHealth, `Bearer ${token}`)).details.workers.media as { ffmpeg: { version: string } };
      expect(detailed.ffmpeg.version).toMatch(/\d/);
      expect((await read(workerHealth)).details.ffmpeg).toEqual({ status: 'up' });
      expect((await read(workerHealth, `Bearer ${token}`)).details.ffmpeg).toMatchObject({
        status: 'up',
        ffmpeg: { version: expect.stringMatching(/\d/) },
      });
    } finally {
      await stack.stop();
    }
  });
});

describe('health reports each dependency that is down', () => {
  it('names Redis and storage when they go away, and recovers', async () => {
    const redis = await PrivateRedis.start();
    const stack = await TestStack.start({ workers: 0, env: { REDIS_URL: redis.url } });
    try {
      const health = async () => {
        const response = await fetch(`${stack.baseUrl}/api/health`);
        return {
          status: response.status,
          body: (await response.json()) as { error: Record<string, { status: string; message?: string }> },
        };
      };
      expect((await health()).status).toBe(200);
      await redis.kill();
      const down = await health();
      expect(down.status).toBe(503);
      expect(down.body.error.redis.status).toBe('down');
      expect(down.body.error.database).toBeUndefined();
      await redis.restart();
      for (let i = 0; i < 50 && (await health()).status !== 200; i += 1) await new Promise((resolve) => setTimeout(resolve, 200));
      expect((await health()).status).toBe(200);

      // Storage: its folder replaced by a file.
      const root = path.join(stack.dir, 'files');
      fs.rmSync(root, { recursive: true, force: true });
      fs.writeFileSync(root, 'not a folder');
      const storageDown = await health();
      expect(storageDown.status).toBe(503);
      expect(storageDown.body.error.storage.status).toBe('down');
      fs.rmSync(root);
      fs.mkdirSync(path.join(root, '.tmp'), { recursive: true });
      expect((await health()).status).toBe(200);
    } finally {
      await stack.stop().catch(() => undefined);
      await redis.kill();
    }
  });
});

describe('rate limits across two api instances', () => {
  it('counts uploads and zip archives per user and sign-ins per address in Redis, whichever instance answers', async () => {
    const limits = { RATE_LIMIT_UPLOADS: '4', RATE_LIMIT_AUTH: '6', RATE_LIMIT_ARCHIVES: '3' };
    const stack = await TestStack.start({ workers: 0, env: limits });
    const port = await freePort();
    const second = new ChildApp('api', { ...stack.env, PORT: String(port), ...limits });
    const secondUrl = `http://127.0.0.1:${port}`;
    try {
      await second.waitForLine(/Nest application successfully started/);
      const user = await ApiClient.register(stack.baseUrl);
      const other = new ApiClient(secondUrl, user.token, user.user);
      const statuses: number[] = [];
      for (let i = 0; i < 6; i += 1) statuses.push((await (i % 2 ? other : user).upload([await media.jpeg(20, 20)])).status);
      expect(statuses).toEqual([201, 201, 201, 201, 429, 429]);
      const limited = await other.upload([await media.jpeg(20, 20)]);
      expect(limited.headers.get('retry-after')).toMatch(/^\d+$/);
      expect((limited.body as unknown as { message: string }).message).toMatch(/Too many requests/);
      // Another user is not affected.
      const someoneElse = await ApiClient.register(secondUrl);
      expect((await someoneElse.upload([await media.jpeg(20, 20)])).status).toBe(201);

      // Zip archives (each one kept in Redis for over an hour): 3 a minute per user across both
      // instances, counted apart from the upload limit this user has used up.
      const zip = (client: ApiClient) =>
        client.request<Record<string, unknown>>('POST', '/api/archives', {
          json: { ids: ['0190a7e2-0000-7000-8000-000000000000'], content: 'thumbnails' },
        });
      const zips: number[] = [];
      for (let i = 0; i < 5; i += 1) zips.push((await zip(i % 2 ? other : user)).status);
      expect(zips).toEqual([201, 201, 201, 429, 429]);
      const zipLimited = await zip(other);
      expect(zipLimited.headers.get('retry-after')).toMatch(/^\d+$/);
      expect(zipLimited.body).toEqual({
        statusCode: 429,
        error: 'Too Many Requests',
        message: expect.stringMatching(/^Too many requests \(at most 3 a minute\)\. Try again in \d+ seconds\.$/) as unknown,
      });
      expect((await zip(someoneElse)).status).toBe(201);

      // The user's API keys share the user's budgets: a new key does not start a count of its own.
      const made = await user.request<{ key: string }>('POST', '/api/api-keys', { json: { name: 'more', scopes: ['read', 'upload'] } });
      expect(made.status).toBe(201);
      const asKey = new ApiClient(secondUrl, made.body.key, user.user);
      expect((await asKey.upload([await media.jpeg(20, 20)])).status).toBe(429);
      expect((await zip(asKey)).status).toBe(429);

      // Sign-in/registration attempts from one address: 6 a minute across both instances (2 used above).
      const auth: number[] = [];
      for (let i = 0; i < 6; i += 1) {
        const res = await request(i % 2 ? secondUrl : stack.baseUrl, 'POST', '/api/auth/login', {
          json: { email: `n${i}@example.com`, password: 'whatever1' },
        });
        auth.push(res.status);
      }
      expect(auth).toEqual([401, 401, 401, 401, 429, 429]);
    } finally {
      await second.stop();
      await stack.stop();
    }
  });
});

describe('api shutdown', () => {
  it('finishes an upload in flight, closes sockets, then exits', async () => {
    const stack = await TestStack.start({ workers: 0 });
    try {
      const user = await ApiClient.register(stack.baseUrl);
      const socket = await StatusSocket.connect(stack.baseUrl, user.token);
      const disconnected = new Promise<string>((resolve) => socket.socket.once('disconnect', resolve));
      const file = await media.jpeg(400, 300);
      const boundary = 'shutdown-boundary';
      const head = Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="files"; filename="slow.jpg"\r\nContent-Type: image/jpeg\r\n\r\n`,
      );
      const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
      let step = 0;
      const body = new ReadableStream<Uint8Array>({
        async pull(controller) {
          // Trickle the file in over about a second.
          if (step === 0) controller.enqueue(head);
          const slice = file.data.subarray(step * 2048, (step + 1) * 2048);
          if (slice.length > 0) controller.enqueue(slice);
          step += 1;
          await new Promise((resolve) => setTimeout(resolve, 1000 / Math.ceil(file.data.length / 2048)));
          if (step * 2048 >= file.data.length) {
            controller.enqueue(tail);
            controller.close();
          }
        },
      });
      const upload = fetch(`${stack.baseUrl}/api/upload`, {
        method: 'POST',
        headers: { authorization: `Bearer ${user.token}`, 'content-type': `multipart/form-data; boundary=${boundary}` },
        body,
        duplex: 'half',
      });
      await new Promise((resolve) => setTimeout(resolve, 300));
      stack.api!.kill('SIGTERM');
      const response = await upload;
      expect(response.status).toBe(201);
      expect(await disconnected).toMatch(/server|transport close/);
      const exit = await stack.api!.exited;
      expect(exit.signal === 'SIGTERM' || exit.code === 0).toBe(true);
    } finally {
      await stack.stop();
    }
  });

  it('closes what is still open after SHUTDOWN_GRACE_MS: a download its client stopped reading does not hold it', async () => {
    const stack = await TestStack.start({ workers: 0, env: { SHUTDOWN_GRACE_MS: '1000' } });
    try {
      const user = await ApiClient.register(stack.baseUrl);
      // Noise does not compress: ≈ 24 MB, more than the sockets between here and there hold.
      const data = await sharp({
        create: { width: 2900, height: 2900, channels: 3, background: '#808080', noise: { type: 'gaussian', mean: 128, sigma: 90 } },
      })
        .png({ compressionLevel: 0 })
        .toBuffer();
      const [job] = await user.uploadOk([{ name: 'big.png', type: 'image/png', data }]);
      const download = await fetch(new URL(job.originalUrl!, stack.baseUrl));
      expect(download.status).toBe(200);
      // Its body is never read: the api cannot finish writing it.
      const stopping = Date.now();
      stack.api!.kill('SIGTERM');
      const exit = await Promise.race([stack.api!.exited, new Promise((resolve) => setTimeout(() => resolve('still running'), 20_000))]);
      expect(exit).toEqual({ code: null, signal: 'SIGTERM' });
      expect(Date.now() - stopping).toBeGreaterThanOrEqual(900);
      await download.body?.cancel().catch(() => undefined);
    } finally {
      await stack.stop();
    }
  });
});

describe('queue dashboard for operators', () => {
  it('opens bull-board to admins (token or cookie) and answers 404 to everyone else', async () => {
    const stack = await TestStack.start({ workers: 0 });
    try {
      const admin = await ApiClient.register(stack.baseUrl, 'Ops@Example.com');
      expect((await adminCli(stack.env, 'grant', 'ops@example.com')).code).toBe(0);
      const user = await ApiClient.register(stack.baseUrl);
      expect((await fetch(`${stack.baseUrl}/api/admin/queues`)).status).toBe(404);
      expect((await fetch(`${stack.baseUrl}/api/admin/queues`, { headers: { authorization: `Bearer ${user.token}` } })).status).toBe(404);
      expect((await user.request('GET', '/api/admin/session')).status).toBe(404);
      expect((await user.request('POST', '/api/admin/session')).status).toBe(404);

      const page = await fetch(`${stack.baseUrl}/api/admin/queues`, { headers: { authorization: `Bearer ${admin.token}` } });
      expect(page.status).toBe(200);
      expect(await page.text()).toMatch(/<html/i);
      expect((await admin.request('GET', '/api/admin/session')).status).toBe(204);
      const session = await admin.request('POST', '/api/admin/session');
      expect(session.status).toBe(204);
      const cookie = session.headers.get('set-cookie')!;
      expect(cookie).toMatch(/thumbs_admin=.+; Max-Age=\d+; Path=\/api\/admin; .*HttpOnly; SameSite=Strict/);
      await user.uploadOk([await media.jpeg()]);
      const queues = await fetch(`${stack.baseUrl}/api/admin/queues/api/queues`, { headers: { cookie: cookie.split(';')[0] } });
      expect(queues.status).toBe(200);
      const body = (await queues.json()) as { queues: { name: string; counts: Record<string, number> }[] };
      expect(body.queues.map((queue) => queue.name)).toEqual(['thumbnails']);
      expect(body.queues[0].counts.waiting).toBe(1);
    } finally {
      await stack.stop();
    }
  });
});
