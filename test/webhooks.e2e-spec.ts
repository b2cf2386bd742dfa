import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApiClient, request } from './support/client';
import { ChildApp } from './support/child-app';
import { freePort, TestStack, waitForHealthy } from './support/stack';

jest.setTimeout(300_000);

/** How the receiver answers a path: `ok` always 200; `fail-once` 500 then 200; `slow-once` no answer at first, then 200. */
type Behaviour = 'ok' | 'fail-once' | 'slow-once';

interface Received {
  path: string;
  headers: Record<string, string>;
  body: string;
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
        this.received.push({ path, headers, body: Buffer.concat(chunks).toString('utf8') });
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
      env: { WEBHOOK_ALLOW_PRIVATE: 'true', WEBHOOK_TIMEOUT_MS: '1500', WEBHOOK_RETRY_BASE_MS: '300', WEBHOOK_MAX_ATTEMPTS: '4' },
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

  it("keeps webhooks to their owner: another user's ids are 404, delete removes the log", async () => {
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
    expect(await deliveries(owner, hook.id)).toEqual([]);
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
