import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import type { JobView } from '@app/shared';
import { ApiClient, request } from './support/client';
import { ChildApp } from './support/child-app';
import { media } from './support/media';
import { freePort, TestStack, waitForHealthy } from './support/stack';

jest.setTimeout(300_000);

/** The stack's delivery timeout: short for the test, long enough that a loaded machine's receiver still answers in time. */
const TIMEOUT_MS = 3000;
/** The first retry's delay (the default is 5.3 s, doubling for 24 h). */
const BACKOFF_MS = 300;

/** How the receiver answers a path: `ok` always 200; `fail-once` 500 then 200; `slow-once` no answer at first, then 200. */
type Behaviour = 'ok' | 'fail-once' | 'slow-once';

interface Received {
  path: string;
  headers: Record<string, string>;
  body: string;
  /** When it arrived (ms). */
  at: number;
}

/** A real HTTP server on 127.0.0.1 that records every request and answers per path. */
class Receiver {
  readonly received: Received[] = [];
  private readonly seen = new Map<string, number>();
  private readonly server: http.Server;
  private readonly hanging = new Set<http.ServerResponse>();

  constructor() {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const path = req.url ?? '/';
        const headers = Object.fromEntries(Object.entries(req.headers).map(([name, value]) => [name, String(value)]));
        this.received.push({ path, headers, body: Buffer.concat(chunks).toString('utf8'), at: Date.now() });
        const count = (this.seen.get(path) ?? 0) + 1;
        this.seen.set(path, count);
        const behaviour = path.split('/')[1] as Behaviour;
        if (behaviour === 'fail-once' && count === 1) {
          res.writeHead(500, { 'content-type': 'text/plain' }).end('receiver broke');
        } else if (behaviour === 'slow-once' && count === 1) {
          this.hanging.add(res); // never answered: the worker's timeout must end it
        } else {
          res.writeHead(200, { 'content-type': 'text/plain' }).end('thanks');
        }
      });
    });
  }

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    for (const res of this.hanging) res.destroy();
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }

  at(path: string): Received[] {
    return this.received.filter((request) => request.path === path);
  }

  /** Waits until `path` has had `count` requests. */
  async waitFor(path: string, count: number, timeoutMs = 60_000): Promise<Received[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.at(path).length < count) {
      if (Date.now() > deadline) throw new Error(`${path} got ${this.at(path).length} of ${count} requests within ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    return this.at(path);
  }
}

interface CreatedWebhook {
  id: string;
  url: string;
  events: string[];
  createdAt: string;
  secret: string;
}

interface DeliveryItem {
  id: string;
  event: string;
  jobId: string;
  attempt: number;
  status: string;
  responseCode: number | null;
  at: string;
}

interface Payload {
  type: string;
  timestamp: string;
  data: JobView;
}

async function createWebhook(user: ApiClient, url: string, events = ['job.completed', 'job.failed']): Promise<CreatedWebhook> {
  const response = await user.request<CreatedWebhook>('POST', '/api/webhooks', { json: { url, events } });
  if (response.status !== 201) throw new Error(`webhook not created: ${response.status} ${JSON.stringify(response.body)}`);
  return response.body;
}

async function deliveries(user: ApiClient, id: string): Promise<DeliveryItem[]> {
  const response = await user.request<{ items: DeliveryItem[] }>('GET', `/api/webhooks/${id}/deliveries`);
  expect(response.status).toBe(200);
  return response.body.items;
}

/** Polls the delivery log until `count` attempts are recorded; oldest first. */
async function waitForDeliveries(user: ApiClient, id: string, count: number, timeoutMs = 60_000): Promise<DeliveryItem[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const items = await deliveries(user, id);
    if (items.length >= count) return [...items].reverse();
    if (Date.now() > deadline) throw new Error(`only ${items.length} of ${count} deliveries recorded: ${JSON.stringify(items)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Signed URLs differ between two signings; everything else must be the same job. */
function withoutUrls(job: JobView): Record<string, unknown> {
  return Object.fromEntries(Object.entries(job).filter(([key]) => !key.endsWith('Url')));
}

/**
 * Webhooks through the built api and worker (real Redis, SQLite, BullMQ) to a real HTTP receiver
 * on 127.0.0.1 (so the stack runs with WEBHOOK_ALLOW_PRIVATE=true); a second api with the default
 * setting checks that private targets are refused.
 */
describe('webhooks (api, worker, Redis, a local receiver)', () => {
  let stack: TestStack;
  let receiver: Receiver;
  let receiverUrl: string;

  beforeAll(async () => {
    receiver = new Receiver();
    receiverUrl = await receiver.start();
    stack = await TestStack.start({
      workers: 1,
      // Short timeout and backoff so a retry comes within the test (the defaults are 10 s and 24 h of retries).
      env: {
        WEBHOOK_ALLOW_PRIVATE: 'true',
        WEBHOOK_TIMEOUT_MS: String(TIMEOUT_MS),
        WEBHOOK_RETRY_BASE_MS: String(BACKOFF_MS),
        WEBHOOK_MAX_ATTEMPTS: '4',
      },
    });
  });

  afterAll(async () => {
    await stack?.stop();
    await receiver?.stop();
  });

  it('refuses malformed input with 400 in the error shape', async () => {
    const user = await ApiClient.register(stack.baseUrl);
    const bad: unknown[] = [
      { url: 'not a url', events: ['job.completed'] },
      { url: 'ftp://127.0.0.1/hook', events: ['job.completed'] },
      { url: 'javascript:alert(1)', events: ['job.completed'] },
      { url: `http://user:secret@127.0.0.1:${new URL(receiverUrl).port}/ok`, events: ['job.completed'] },
      { url: `${receiverUrl}/ok`, events: ['job.exploded'] },
      { url: `${receiverUrl}/ok`, events: [] },
      { url: `${receiverUrl}/ok`, events: 'job.completed' },
      { url: 42, events: ['job.completed'] },
      { events: ['job.completed'] },
      { url: `http://${'a'.repeat(2050)}.example/`, events: ['job.completed'] },
    ];
    for (const json of bad) {
      const response = await user.request<{ statusCode: number; error: string; message: unknown }>('POST', '/api/webhooks', { json });
      expect({ json, status: response.status }).toEqual({ json, status: 400 });
      expect(response.body).toMatchObject({ statusCode: 400, error: 'Bad Request' });
      expect(response.body.message).toBeTruthy();
    }
    expect((await user.request<{ items: unknown[] }>('GET', '/api/webhooks')).body.items).toEqual([]);
    expect(
      (await request(stack.baseUrl, 'POST', '/api/webhooks', { json: { url: `${receiverUrl}/ok`, events: ['job.completed'] } })).status,
    ).toBe(401);
  });

  it('API keys: read lists webhooks and deliveries; no key, whatever its scopes, subscribes or deletes (403)', async () => {
    const user = await ApiClient.register(stack.baseUrl);
    const keyWith = async (scopes: string[]): Promise<string> => {
      const response = await user.request<{ key: string }>('POST', '/api/api-keys', { json: { name: scopes.join('+'), scopes } });
      expect(response.status).toBe(201);
      return response.body.key;
    };
    const all = await keyWith(['read', 'upload', 'delete']);
    const uploadOnly = await keyWith(['upload']);
    const asKey = <T>(key: string, method: string, route: string, json?: unknown) =>
      request<T>(stack.baseUrl, method, route, { json, headers: { authorization: `Bearer ${key}` } });
    const hook = await createWebhook(user, `${receiverUrl}/ok`);

    const listed = await asKey<{ items: { id: string }[] }>(all, 'GET', '/api/webhooks');
    expect(listed.status).toBe(200);
    expect(listed.body.items.map((item) => item.id)).toEqual([hook.id]);
    expect((await asKey(all, 'GET', `/api/webhooks/${hook.id}/deliveries`)).status).toBe(200);
    expect((await asKey(uploadOnly, 'GET', '/api/webhooks')).status).toBe(403);

    for (const [method, route, json] of [
      ['POST', '/api/webhooks', { url: `${receiverUrl}/ok`, events: ['job.completed'] }],
      ['DELETE', `/api/webhooks/${hook.id}`, undefined],
    ] as const) {
      const response = await asKey<{ statusCode: number; message: string }>(all, method, route, json);
      expect([method, response.status]).toEqual([method, 403]);
      expect(response.body.message).toMatch(/sign in with your password/);
    }
    const after = await user.request<{ items: { id: string }[] }>('GET', '/api/webhooks');
    expect(after.body.items.map((item) => item.id)).toEqual([hook.id]);
    expect((await user.request('DELETE', `/api/webhooks/${hook.id}`)).status).toBe(204);
  });

  it('is documented in Swagger, with the payload receivers get', async () => {
    const { body } = await request<{ paths: Record<string, Record<string, unknown>>; components: { schemas: Record<string, unknown> } }>(
      stack.baseUrl,
      'GET',
      '/api/docs-json',
    );
    expect(Object.keys(body.paths['/api/webhooks']).sort()).toEqual(['get', 'post']);
    expect(Object.keys(body.paths['/api/webhooks/{id}'])).toEqual(['delete']);
    expect(Object.keys(body.paths['/api/webhooks/{id}/deliveries'])).toEqual(['get']);
    expect(body.components.schemas).toHaveProperty('WebhookPayloadDto');
    expect(body.components.schemas).toHaveProperty('CreatedWebhookDto');
  });

  it('delivers job.completed and job.failed signed as Standard Webhooks, with the REST job as data', async () => {
    const user = await ApiClient.register(stack.baseUrl);
    const both = await createWebhook(user, `${receiverUrl}/ok/both`);
    const failedOnly = await createWebhook(user, `${receiverUrl}/ok/failed-only`, ['job.failed']);
    expect(both).toMatchObject({
      url: `${receiverUrl}/ok/both`,
      events: ['job.completed', 'job.failed'],
    });
    expect(both.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(Buffer.from(both.secret.slice('whsec_'.length), 'base64')).toHaveLength(32);
    expect(both.secret).not.toBe(failedOnly.secret);

    const listed = await user.request<{ items: Record<string, unknown>[] }>('GET', '/api/webhooks');
    expect(listed.body.items).toEqual([
      { id: both.id, url: both.url, events: both.events, createdAt: both.createdAt },
      { id: failedOnly.id, url: failedOnly.url, events: ['job.failed'], createdAt: failedOnly.createdAt },
    ]);

    const [good] = await user.uploadOk([await media.jpeg(64, 48)]);
    const completed = await user.waitFor(good.id);
    expect(completed.status).toBe('completed');
    const [first] = await receiver.waitFor('/ok/both', 1);

    // The reference implementation verifies it (and a wrong secret does not).
    const payload = new Webhook(both.secret).verify(first.body, first.headers) as Payload;
    expect(() => new Webhook(failedOnly.secret).verify(first.body, first.headers)).toThrow();
    expect(first.headers['webhook-id']).toMatch(/^msg_[0-9a-f]{32}$/);
    expect(first.headers['content-type']).toBe('application/json');
    expect(payload.type).toBe('job.completed');
    expect(payload.timestamp).toBe(completed.updatedAt);
    expect(Object.keys(payload.data).sort()).toEqual(Object.keys(completed).sort());
    expect(withoutUrls(payload.data)).toEqual(withoutUrls(completed));
    // Its signed thumbnail URL works without a token.
    expect((await user.fetchBytes(payload.data.thumbnailUrl!)).status).toBe(200);

    const [bad] = await user.uploadOk([media.brokenJpeg()]);
    const failed = await user.waitFor(bad.id);
    expect(failed.status).toBe('failed');
    const [failedEvent] = await receiver.waitFor('/ok/failed-only', 1);
    const failedPayload = new Webhook(failedOnly.secret).verify(failedEvent.body, failedEvent.headers) as Payload;
    expect(failedPayload).toMatchObject({
      type: 'job.failed',
      data: { id: bad.id, status: 'failed', errorMessage: failed.errorMessage },
    });
    const [, second] = await receiver.waitFor('/ok/both', 2);
    expect((new Webhook(both.secret).verify(second.body, second.headers) as Payload).type).toBe('job.failed');

    expect(
      (await waitForDeliveries(user, both.id, 2)).map(({ event, jobId, attempt, status, responseCode }) => ({
        event,
        jobId,
        attempt,
        status,
        responseCode,
      })),
    ).toEqual([
      { event: 'job.completed', jobId: good.id, attempt: 1, status: 'delivered', responseCode: 200 },
      { event: 'job.failed', jobId: bad.id, attempt: 1, status: 'delivered', responseCode: 200 },
    ]);
    const [onlyFailed] = await waitForDeliveries(user, failedOnly.id, 1);
    expect(onlyFailed).toMatchObject({ event: 'job.failed', jobId: bad.id, attempt: 1, status: 'delivered', responseCode: 200 });
    expect(new Date(onlyFailed.at).toISOString()).toBe(onlyFailed.at);
    // Nothing else went to the failed-only receiver (the completed job was not its event).
    expect(receiver.at('/ok/failed-only')).toHaveLength(1);
  });

  it('retries after a 500 answer, with the same message id, and logs each attempt', async () => {
    const user = await ApiClient.register(stack.baseUrl);
    const hook = await createWebhook(user, `${receiverUrl}/fail-once/a`, ['job.completed']);
    const [job] = await user.uploadOk([await media.jpeg(40, 40)]);
    const [first, second] = await receiver.waitFor('/fail-once/a', 2);
    expect(second.headers['webhook-id']).toBe(first.headers['webhook-id']);
    expect(new Webhook(hook.secret).verify(second.body, second.headers)).toMatchObject({ type: 'job.completed', data: { id: job.id } });
    const attempts = await waitForDeliveries(user, hook.id, 2);
    expect(attempts.map(({ attempt, status, responseCode, jobId }) => ({ attempt, status, responseCode, jobId }))).toEqual([
      { attempt: 1, status: 'failed', responseCode: 500, jobId: job.id },
      { attempt: 2, status: 'delivered', responseCode: 200, jobId: job.id },
    ]);
    expect(Date.parse(attempts[1].at) - Date.parse(attempts[0].at)).toBeGreaterThanOrEqual(BACKOFF_MS - 50);
  });

  it('retries after no answer within the timeout', async () => {
    const user = await ApiClient.register(stack.baseUrl);
    const hook = await createWebhook(user, `${receiverUrl}/slow-once/b`, ['job.completed']);
    const [job] = await user.uploadOk([await media.jpeg(40, 40)]);
    const [first, second] = await receiver.waitFor('/slow-once/b', 2);
    // Given up after WEBHOOK_TIMEOUT_MS, then retried after the backoff.
    expect(second.at - first.at).toBeGreaterThanOrEqual(TIMEOUT_MS + BACKOFF_MS - 50);
    expect(second.headers['webhook-id']).toBe(first.headers['webhook-id']);
    const attempts = await waitForDeliveries(user, hook.id, 2);
    expect(attempts.map(({ attempt, status, responseCode, jobId }) => ({ attempt, status, responseCode, jobId }))).toEqual([
      { attempt: 1, status: 'failed', responseCode: null, jobId: job.id },
      { attempt: 2, status: 'delivered', responseCode: 200, jobId: job.id },
    ]);
  });

  it("keeps webhooks to their owner: another user's ids are 404, delete removes the log, at most 20 per account", async () => {
    const owner = await ApiClient.register(stack.baseUrl);
    const other = await ApiClient.register(stack.baseUrl);
    const hook = await createWebhook(owner, `${receiverUrl}/ok/owned`);
    expect((await other.request('GET', `/api/webhooks/${hook.id}/deliveries`)).status).toBe(404);
    const refused = await other.request<Record<string, unknown>>('DELETE', `/api/webhooks/${hook.id}`);
    expect(refused.status).toBe(404);
    expect(refused.body).toEqual({ statusCode: 404, error: 'Not Found', message: 'Webhook not found' });
    expect((await other.request<{ items: unknown[] }>('GET', '/api/webhooks')).body.items).toEqual([]);
    for (const id of ['00000000-0000-7000-8000-000000000000', 'nonsense']) {
      expect((await owner.request('GET', `/api/webhooks/${id}/deliveries`)).status).toBe(404);
      expect((await owner.request('DELETE', `/api/webhooks/${id}`)).status).toBe(404);
    }
    // The other user's job ends do not reach the owner's webhook.
    const [othersJob] = await other.uploadOk([await media.jpeg(32, 32)]);
    await other.waitFor(othersJob.id);

    expect(await deliveries(owner, hook.id)).toEqual([]);
    // At most 20 per account (every job end fans out to each).
    for (let i = 1; i < 20; i += 1) await createWebhook(owner, `${receiverUrl}/ok/owned-${i}`);
    const tooMany = await owner.request<{ message: string }>('POST', '/api/webhooks', {
      json: { url: `${receiverUrl}/ok/x`, events: ['job.failed'] },
    });
    expect(tooMany.status).toBe(400);
    expect(tooMany.body.message).toMatch(/20 webhooks/);
    for (const { id } of (await owner.request<{ items: { id: string }[] }>('GET', '/api/webhooks')).body.items.slice(1)) {
      expect((await owner.request('DELETE', `/api/webhooks/${id}`)).status).toBe(204);
    }
    expect((await owner.request('DELETE', `/api/webhooks/${hook.id}`)).status).toBe(204);
    expect((await owner.request('GET', `/api/webhooks/${hook.id}/deliveries`)).status).toBe(404);
    expect((await owner.request<{ items: unknown[] }>('GET', '/api/webhooks')).body.items).toEqual([]);
    expect(receiver.at('/ok/owned')).toEqual([]);
  });

  describe('with WEBHOOK_ALLOW_PRIVATE unset (the default)', () => {
    let strictApi: ChildApp;
    let strictUrl: string;

    beforeAll(async () => {
      const port = await freePort();
      strictUrl = `http://127.0.0.1:${port}`;
      const env: Record<string, string> = { ...stack.env, PORT: String(port) };
      delete env.WEBHOOK_ALLOW_PRIVATE;
      strictApi = new ChildApp('api', env);
      await waitForHealthy(`${strictUrl}/api/health`, strictApi);
    });

    afterAll(async () => {
      await strictApi?.stop();
    });

    it('refuses URLs that resolve to loopback, private, link-local or metadata addresses with 400', async () => {
      const user = await ApiClient.register(strictUrl);
      const port = new URL(receiverUrl).port;
      const targets = [
        `http://127.0.0.1:${port}/ok`,
        // A name, resolved by the api: localhost is 127.0.0.1 (or ::1).
        `http://localhost:${port}/ok`,
        'http://[::1]/ok',
        'http://[::ffff:127.0.0.1]/ok',
        // IPv4-compatible IPv6 (::/96): 127.0.0.1, 169.254.169.254 and 10.0.0.1 embedded
        'http://[::127.0.0.1]/ok',
        'http://[::7f00:1]/ok',
        'http://[::a9fe:a9fe]/latest/meta-data/',
        'http://[::a00:1]/ok',
        'http://10.0.0.8/ok',
        'http://192.168.1.20/ok',
        'https://172.16.0.1/ok',
        'http://169.254.169.254/latest/meta-data/',
        'http://[fd00:ec2::254]/latest/meta-data/',
        'http://0.0.0.0/ok',
        'http://2130706433/ok',
      ];
      for (const url of targets) {
        const response = await user.request<{ statusCode: number; message: string }>('POST', '/api/webhooks', {
          json: { url, events: ['job.completed'] },
        });
        expect({ url, status: response.status }).toEqual({ url, status: 400 });
        expect(response.body.message).toMatch(/address/);
      }
      expect((await user.request<{ items: unknown[] }>('GET', '/api/webhooks')).body.items).toEqual([]);
    });
  });
});
