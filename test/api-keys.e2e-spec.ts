import Database from 'better-sqlite3';
import { createHash, createHmac, hkdfSync } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ApiKeyScope, ApiKeyView, CreatedApiKeyView, JobView, UploadResult } from '@app/shared';
import { ApiClient, request, Response, UploadFile } from './support/client';
import { ChildApp } from './support/child-app';
import { media } from './support/media';
import { StatusSocket } from './support/sockets';
import { freePort, TestStack, waitForHealthy } from './support/stack';

jest.setTimeout(300_000);

/** A program holding only an API key. */
class KeyClient {
  constructor(
    readonly baseUrl: string,
    readonly key: string,
  ) {}

  call<T = unknown>(method: string, route: string, options: { json?: unknown; form?: FormData } = {}): Promise<Response<T>> {
    return request<T>(this.baseUrl, method, route, { ...options, headers: { authorization: `Bearer ${this.key}` } });
  }

  upload(files: UploadFile[]): Promise<Response<UploadResult>> {
    const form = new FormData();
    for (const file of files) form.append('files', new Blob([file.data], { type: file.type ?? 'application/octet-stream' }), file.name);
    return this.call<UploadResult>('POST', '/api/upload', { form });
  }
}

/**
 * API keys against the built api and a worker on real SQLite, Redis and disk: making, listing
 * and revoking keys; each scope on every route family (jobs, upload, retry, delete, files, the
 * socket, key management); revocation at once (REST and open sockets); lastUsedAt; the
 * per-key rate limit on a second api process; how keys are stored.
 */
describe('API keys (built api + worker, SQLite, Redis)', () => {
  let stack: TestStack;
  let owner: ApiClient;
  let keys: Record<'read' | 'upload' | 'delete' | 'all', KeyClient>;
  let completed: JobView;
  let failed: JobView;

  async function makeKey(user: ApiClient, scopes: ApiKeyScope[], name = `key ${scopes.join('+')}`): Promise<CreatedApiKeyView> {
    const response = await user.request<CreatedApiKeyView>('POST', '/api/api-keys', { json: { name, scopes } });
    if (response.status !== 201) throw new Error(`key not made: ${response.status} ${JSON.stringify(response.body)}`);
    return response.body;
  }

  beforeAll(async () => {
    stack = await TestStack.start({ workers: 1 });
    owner = await ApiClient.register(stack.baseUrl);
    const client = async (scopes: ApiKeyScope[]) => new KeyClient(stack.baseUrl, (await makeKey(owner, scopes)).key);
    keys = {
      read: await client(['read']),
      upload: await client(['upload']),
      delete: await client(['delete']),
      all: await client(['read', 'upload', 'delete']),
    };
    const [good, broken] = await owner.uploadOk([await media.jpeg(64, 48), media.brokenJpeg()]);
    completed = await owner.waitFor(good.id, ['completed'], 120_000);
    failed = await owner.waitFor(broken.id, ['failed'], 120_000);
  });

  afterAll(async () => {
    await stack?.stop();
  });

  it('POST makes a key shown once (thumbs_ + 43 base64url characters); GET lists keys without them', async () => {
    const user = await ApiClient.register(stack.baseUrl);
    const created = await makeKey(user, ['upload', 'read', 'read'], '  nightly backup  ');
    expect(created).toEqual({
      id: expect.any(String),
      name: 'nightly backup',
      scopes: ['read', 'upload'],
      createdAt: expect.any(String),
      lastUsedAt: null,
      key: expect.stringMatching(/^thumbs_[A-Za-z0-9_-]{43}$/),
    });
    const second = await makeKey(user, ['delete'], 'cleanup 👩‍💻 उ‍ंट 🏴󠁧󠁢󠁳󠁣󠁴󠁿');
    expect(second.name).toBe('cleanup 👩‍💻 उ‍ंट 🏴󠁧󠁢󠁳󠁣󠁴󠁿'); // the joiners of emoji and Indic scripts, a flag's tags stay
    expect(second.key).not.toBe(created.key);
    const list = await user.request<ApiKeyView[]>('GET', '/api/api-keys');
    expect(list.status).toBe(200);
    expect(list.body.map((key) => key.id)).toEqual([second.id, created.id]);
    expect(list.body[1]).toEqual({
      id: created.id,
      name: 'nightly backup',
      scopes: ['read', 'upload'],
      createdAt: created.createdAt,
      lastUsedAt: null,
    });
    expect(JSON.stringify(list.body)).not.toContain('thumbs_');
    // Another user sees none of them.
    const other = await ApiClient.register(stack.baseUrl);
    expect((await other.request<ApiKeyView[]>('GET', '/api/api-keys')).body).toEqual([]);
  });

  it('stores only the HMAC-SHA256 of a key, under a key derived from the server secret', async () => {
    const user = await ApiClient.register(stack.baseUrl);
    const created = await makeKey(user, ['read']);
    const db = new Database(path.join(stack.dir, 'thumbs.db'), { readonly: true, fileMustExist: true });
    try {
      const row = db.prepare('SELECT * FROM api_keys WHERE id = ?').get(created.id) as Record<string, unknown>;
      expect(JSON.stringify(row)).not.toContain(created.key.slice('thumbs_'.length));
      expect(row.key_hash).not.toBe(createHash('sha256').update(created.key).digest('hex'));
      const secret = fs.readFileSync(path.join(stack.dir, 'jwt-secret'), 'utf8').trim();
      const hmacKey = Buffer.from(hkdfSync('sha256', secret, 'thumbs', 'api-key-hmac-v1', 32));
      expect(row.key_hash).toBe(createHmac('sha256', hmacKey).update(created.key).digest('hex'));
    } finally {
      db.close();
    }
  });

  it('refuses malformed requests with 400 and anonymous ones with 401', async () => {
    for (const json of [
      { scopes: ['read'] },
      { name: '', scopes: ['read'] },
      { name: '   ', scopes: ['read'] },
      { name: 'x'.repeat(101), scopes: ['read'] },
      { name: 'k', scopes: [] },
      { name: 'k', scopes: ['admin'] },
      { name: 'k', scopes: 'read' },
      { name: 'k', scopes: ['read'], key: 'thumbs_mine' },
      { name: { $gt: '' }, scopes: ['read'] },
      // Controls and format characters would let a name pass for another in the key list.
      { name: 'backup\u0000', scopes: ['read'] },
      { name: 'evil\u202egnp.exe', scopes: ['read'] },
      { name: 'line\nbreak', scopes: ['read'] },
      { name: 'zero\u200bwidth', scopes: ['read'] },
      { name: 'half \ud83d pair', scopes: ['read'] },
    ]) {
      const response = await owner.request<{ statusCode: number; error: string; message: unknown }>('POST', '/api/api-keys', { json });
      expect([response.status, response.body.statusCode, response.body.error]).toEqual([400, 400, 'Bad Request']);
    }
    expect((await request(stack.baseUrl, 'POST', '/api/api-keys', { json: { name: 'k', scopes: ['read'] } })).status).toBe(401);
    expect((await request(stack.baseUrl, 'GET', '/api/api-keys')).status).toBe(401);
  });

  it('read: GET routes (jobs, one job, me, thumbnails by bearer) work with read and are 403 without it (unless the URL is signed)', async () => {
    const thumbnailPath = new URL(completed.thumbnailUrl!, stack.baseUrl).pathname;
    const routes = ['/api/jobs', `/api/jobs/${completed.id}`, '/api/auth/me', thumbnailPath];
    for (const route of routes) {
      for (const client of [keys.read, keys.all]) {
        const response = await client.call('GET', route);
        expect([route, response.status]).toEqual([route, 200]);
      }
      for (const client of [keys.upload, keys.delete]) {
        const response = await client.call<{ statusCode: number; message: string }>('GET', route);
        expect([route, response.status]).toEqual([route, 403]);
        expect(response.body.message).toMatch(/lacks the "read" scope/);
      }
    }
    // A key without read, for someone else's file: the same 403, so nothing is learnt of the file.
    const stranger = new KeyClient(stack.baseUrl, (await makeKey(await ApiClient.register(stack.baseUrl), ['upload'])).key);
    expect((await stranger.call('GET', thumbnailPath)).status).toBe(403);
    expect((await stranger.call('GET', thumbnailPath.replace(/[0-9a-f]{4}(?=\.jpg$)/, '0000'))).status).toBe(403);
    // With a signed URL the signature decides, whatever key comes with it.
    const signed = new URL(completed.thumbnailUrl!, stack.baseUrl);
    expect((await keys.upload.call('GET', `${signed.pathname}${signed.search}`)).status).toBe(200);
    const list = await keys.read.call<{ items: JobView[] }>('GET', '/api/jobs');
    expect(list.body.items.map((job) => job.id).sort()).toEqual([completed.id, failed.id].sort());
    const me = await keys.read.call<{ id: string }>('GET', '/api/auth/me');
    expect(me.body.id).toBe(owner.user.id);
  });

  it('upload: POST /api/upload and retry need upload (403 otherwise, with nothing stored)', async () => {
    for (const client of [keys.read, keys.delete]) {
      const response = await client.upload([await media.jpeg(32, 32)]);
      expect(response.status).toBe(403);
      expect((await client.call('POST', `/api/jobs/${failed.id}/retry`)).status).toBe(403);
    }
    expect((await owner.list()).body.items).toHaveLength(2);
    const uploaded = await keys.upload.upload([await media.jpeg(40, 30)]);
    expect(uploaded.status).toBe(201);
    expect(uploaded.body.jobs).toHaveLength(1);
    const job = await owner.waitFor(uploaded.body.jobs[0].id, ['completed'], 120_000);
    expect(job.originalFilename).toBe('photo.jpg');
    const retried = await keys.upload.call<JobView>('POST', `/api/jobs/${failed.id}/retry`);
    expect(retried.status).toBe(202);
    expect(retried.body.status).toBe('queued');
    await owner.waitFor(failed.id, ['failed'], 120_000);
  });

  it('delete: DELETE /api/jobs/:id needs delete (403 otherwise); another user’s job is 404', async () => {
    const [job] = await owner.uploadOk([await media.jpeg(24, 24)]);
    await owner.waitFor(job.id, ['completed', 'failed'], 120_000);
    for (const client of [keys.read, keys.upload]) expect((await client.call('DELETE', `/api/jobs/${job.id}`)).status).toBe(403);
    expect((await owner.job(job.id)).status).toBe(200);
    const stranger = await ApiClient.register(stack.baseUrl);
    const strangerKey = new KeyClient(stack.baseUrl, (await makeKey(stranger, ['read', 'upload', 'delete'])).key);
    expect((await strangerKey.call('DELETE', `/api/jobs/${job.id}`)).status).toBe(404);
    expect((await strangerKey.call('GET', `/api/jobs/${job.id}`)).status).toBe(404);
    expect((await strangerKey.call('POST', `/api/jobs/${job.id}/retry`)).status).toBe(404);
    expect((await keys.delete.call('DELETE', `/api/jobs/${job.id}`)).status).toBe(204);
    // Deleting moves the job to the trash (restorable): it still reads, marked deleted.
    const trashed = await owner.job(job.id);
    expect(trashed.status).toBe(200);
    expect(trashed.body.deletedAt).not.toBeNull();
  });

  it('an API key, whatever its scopes, cannot make or revoke keys (403); one with read lists them, without the keys', async () => {
    const someKey = (await owner.request<ApiKeyView[]>('GET', '/api/api-keys')).body[0];
    const attempts: [string, string, unknown][] = [
      ['POST', '/api/api-keys', { name: 'escalate', scopes: ['read', 'upload', 'delete'] }],
      ['DELETE', `/api/api-keys/${someKey.id}`, undefined],
    ];
    for (const [method, route, json] of attempts) {
      const response = await keys.all.call<{ message: string }>(method, route, { json });
      expect([method, response.status]).toEqual([method, 403]);
      expect(response.body.message).toMatch(/sign in with your password/);
    }
    const listed = await keys.read.call<ApiKeyView[]>('GET', '/api/api-keys');
    expect(listed.status).toBe(200);
    expect(listed.body).toEqual((await owner.request<ApiKeyView[]>('GET', '/api/api-keys')).body);
    expect(JSON.stringify(listed.body)).not.toContain('thumbs_');
    for (const client of [keys.upload, keys.delete]) {
      const refused = await client.call<{ message: string }>('GET', '/api/api-keys');
      expect([refused.status, refused.body.message]).toEqual([403, expect.stringMatching(/lacks the "read" scope/)]);
    }
    expect(listed.body).toHaveLength(4);
  });

  it('the socket takes a key with read (and its user’s events only); without read, or a bad key: connect_error unauthorized', async () => {
    await expect(StatusSocket.connect(stack.baseUrl, keys.upload.key)).rejects.toThrow('unauthorized');
    await expect(StatusSocket.connect(stack.baseUrl, keys.delete.key)).rejects.toThrow('unauthorized');
    await expect(StatusSocket.connect(stack.baseUrl, `thumbs_${'A'.repeat(43)}`)).rejects.toThrow('unauthorized');
    const socket = await StatusSocket.connect(stack.baseUrl, keys.read.key);
    const stranger = await ApiClient.register(stack.baseUrl);
    try {
      const [strangers] = await stranger.uploadOk([await media.jpeg(20, 20)]);
      const [mine] = await owner.uploadOk([await media.jpeg(22, 22)]);
      await socket.waitFor((event) => event.jobId === mine.id && event.status === 'completed', 120_000);
      await stranger.waitFor(strangers.id, ['completed'], 120_000);
      expect(socket.events.every((event) => event.userId === owner.user.id)).toBe(true);
      expect(socket.events.some((event) => event.jobId === strangers.id)).toBe(false);
    } finally {
      socket.close();
    }
  });

  it('revoking a key works at once: REST answers 401 and sockets opened with it are closed', async () => {
    const created = await makeKey(owner, ['read']);
    const client = new KeyClient(stack.baseUrl, created.key);
    expect((await client.call('GET', '/api/jobs')).status).toBe(200);
    const socket = await StatusSocket.connect(stack.baseUrl, created.key);
    const disconnected = new Promise<string>((resolve) => socket.socket.once('disconnect', resolve));

    const stranger = await ApiClient.register(stack.baseUrl);
    expect((await stranger.request('DELETE', `/api/api-keys/${created.id}`)).status).toBe(404);
    expect((await owner.request('DELETE', '/api/api-keys/not-an-id')).status).toBe(404);
    expect((await client.call('GET', '/api/jobs')).status).toBe(200);

    expect((await owner.request('DELETE', `/api/api-keys/${created.id}`)).status).toBe(204);
    const after = await client.call<{ message: string }>('GET', '/api/jobs');
    expect(after.status).toBe(401);
    expect(after.body.message).toMatch(/Invalid or revoked API key/);
    expect(await disconnected).toBe('io server disconnect');
    await expect(StatusSocket.connect(stack.baseUrl, created.key)).rejects.toThrow('unauthorized');
    expect((await owner.request('DELETE', `/api/api-keys/${created.id}`)).status).toBe(404);
    expect((await owner.request<ApiKeyView[]>('GET', '/api/api-keys')).body.map((key) => key.id)).not.toContain(created.id);
  });

  it('a socket on another api instance closes too, within its 10 s re-check, when its key is revoked', async () => {
    const port = await freePort();
    const other = new ChildApp('api', { ...stack.env, PORT: String(port) });
    try {
      const url = `http://127.0.0.1:${port}`;
      await waitForHealthy(`${url}/api/health`, other);
      const created = await makeKey(owner, ['read']);
      const socket = await StatusSocket.connect(url, created.key);
      const disconnected = new Promise<number>((resolve) => socket.socket.once('disconnect', () => resolve(Date.now())));
      const revokedAt = Date.now();
      expect((await owner.request('DELETE', `/api/api-keys/${created.id}`)).status).toBe(204);
      const closedAt = await disconnected;
      expect(closedAt - revokedAt).toBeLessThan(25_000);
      expect((await new KeyClient(url, created.key).call('GET', '/api/jobs')).status).toBe(401);
    } finally {
      await other.stop();
    }
  });

  it('malformed and unknown keys are 401', async () => {
    for (const key of ['thumbs_', 'thumbs_short', `thumbs_${'A'.repeat(43)}`, `thumbs_${'A'.repeat(44)}`, `${keys.all.key}x`]) {
      expect((await new KeyClient(stack.baseUrl, key).call('GET', '/api/jobs')).status).toBe(401);
    }
  });

  it('records lastUsedAt, written at most once a minute', async () => {
    const user = await ApiClient.register(stack.baseUrl);
    const created = await makeKey(user, ['read']);
    const client = new KeyClient(stack.baseUrl, created.key);
    const lastUsed = async () => (await user.request<ApiKeyView[]>('GET', '/api/api-keys')).body[0].lastUsedAt;
    expect(await lastUsed()).toBeNull();
    const before = Date.now();
    expect((await client.call('GET', '/api/jobs')).status).toBe(200);
    let first: string | null = null;
    const deadline = Date.now() + 10_000;
    while (first === null && Date.now() < deadline) first = await lastUsed();
    expect(first).not.toBeNull();
    expect(Date.parse(first!)).toBeGreaterThanOrEqual(before - 1000);
    for (let i = 0; i < 3; i += 1) expect((await client.call('GET', '/api/jobs')).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await lastUsed()).toBe(first);
  });

  it('rate limits each key on its own (RATE_LIMIT_API_KEY=5 on a second api): 429 with Retry-After', async () => {
    const port = await freePort();
    const api = new ChildApp('api', { ...stack.env, PORT: String(port), RATE_LIMIT_API_KEY: '5' });
    try {
      const url = `http://127.0.0.1:${port}`;
      await waitForHealthy(`${url}/api/health`, api);
      const user = await ApiClient.register(url);
      const [one, two] = [new KeyClient(url, (await makeKey(user, ['read'])).key), new KeyClient(url, (await makeKey(user, ['read'])).key)];
      // A minute boundary between the calls would reset the window: start just after one.
      const intoMinute = Date.now() % 60_000;
      if (intoMinute > 45_000) await new Promise((resolve) => setTimeout(resolve, 60_500 - intoMinute));
      const statuses: number[] = [];
      for (let i = 0; i < 6; i += 1) statuses.push((await one.call('GET', '/api/jobs')).status);
      expect(statuses).toEqual([200, 200, 200, 200, 200, 429]);
      const limited = await one.call<{ message: string }>('GET', '/api/jobs');
      expect(limited.status).toBe(429);
      expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(limited.body.message).toMatch(/at most 5 a minute/);
      // Another key of the same user, and the user's own sign-in, are not affected.
      expect((await two.call('GET', '/api/jobs')).status).toBe(200);
      expect((await user.list()).status).toBe(200);
    } finally {
      await api.stop();
    }
  });

  it('Swagger documents both security schemes, which routes take keys, and their 403', async () => {
    const doc = (
      await request<{ components: { securitySchemes: Record<string, unknown> }; paths: Record<string, Record<string, unknown>> }>(
        stack.baseUrl,
        'GET',
        '/api/docs-json',
      )
    ).body;
    expect(doc.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' });
    expect(doc.components.securitySchemes['api-key']).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(Object.keys(doc.paths['/api/api-keys'])).toEqual(expect.arrayContaining(['get', 'post']));
    expect(Object.keys(doc.paths['/api/api-keys/{id}'])).toEqual(['delete']);
    expect(JSON.stringify(doc.paths['/api/jobs'])).toContain('api-key');
    type Operation = { security?: Record<string, unknown>[]; responses: Record<string, unknown> };
    const operation = (route: string) => {
      const [method, path] = route.split(' ');
      return (doc.paths[path] as Record<string, Operation>)[method];
    };
    const schemes = (route: string) => (operation(route).security ?? []).flatMap((item) => Object.keys(item)).sort();
    // Every route a key may call (each tried with keys above and in the suites of tus, archives, webhooks) says so, and its 403.
    const withKeys = [
      'get /api/auth/me',
      'post /api/upload',
      'post /api/uploads',
      'head /api/uploads/{id}',
      'patch /api/uploads/{id}',
      'delete /api/uploads/{id}',
      'get /api/jobs',
      'get /api/jobs/stats',
      'post /api/jobs/bulk',
      'get /api/jobs/{id}',
      'delete /api/jobs/{id}',
      'post /api/jobs/{id}/retry',
      'post /api/jobs/{id}/restore',
      'get /api/thumbnails/{filename}',
      'get /api/download/{filename}',
      'get /api/previews/{filename}',
      'get /api/animated-previews/{filename}',
      'get /api/originals/{filename}',
      'get /api/webhooks',
      'get /api/webhooks/{id}/deliveries',
      'post /api/archives',
      'get /api/api-keys',
    ];
    for (const route of withKeys)
      expect([route, schemes(route), Object.keys(operation(route).responses)]).toEqual([
        route,
        ['api-key', 'bearer'],
        expect.arrayContaining(['403']),
      ]);
    // Those that refuse keys document the 403 and only the access token.
    for (const route of ['post /api/api-keys', 'delete /api/api-keys/{id}', 'post /api/webhooks', 'delete /api/webhooks/{id}']) {
      expect([route, schemes(route), Object.keys(operation(route).responses)]).toEqual([
        route,
        ['bearer'],
        expect.arrayContaining(['403']),
      ]);
    }
  });
});
