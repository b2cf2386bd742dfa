import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { AppConfig, SqliteDatabase } from '@app/core';
import type { JobView } from '@app/shared';
import { SqliteWebhooksRepository } from '../persistence/sqlite-webhooks.repository';
import { SecretBox } from '../secret-box';
import { WebhookDeliverer } from './webhook-deliverer';
import type { WebhookDeliveryData } from './webhook-queue';

const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw4k5Mm7DiBqQ=';

describe('WebhookDeliverer (real SQLite, real HTTP on 127.0.0.1)', () => {
  let sqlite: SqliteDatabase;
  let repo: SqliteWebhooksRepository;
  let server: http.Server;
  let url: string;
  const received: { headers: http.IncomingHttpHeaders; body: string }[] = [];

  const config = (allowPrivate: boolean) =>
    ({ auth: { jwtSecret: 's'.repeat(48) }, webhooks: { allowPrivate, timeoutMs: 2000, retryBaseMs: 10, maxAttempts: 3 } }) as AppConfig;
  const message = (webhookId: string): WebhookDeliveryData => ({
    webhookId,
    messageId: 'msg_1',
    event: 'job.completed',
    jobId: 'job-1',
    timestamp: '2026-01-01T00:00:00.000Z',
    data: { id: 'job-1', status: 'completed' } as JobView,
  });

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
        res.end('ok');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://localhost:${(server.address() as AddressInfo).port}/hook`;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  beforeEach(async () => {
    received.length = 0;
    sqlite = new SqliteDatabase(':memory:');
    repo = new SqliteWebhooksRepository(sqlite);
    repo.onModuleInit();
    const box = new SecretBox(config(false));
    await repo.create({
      id: 'w1',
      userId: 'u1',
      url,
      events: ['job.completed'],
      sealedSecret: box.seal('w1', SECRET),
      createdAt: new Date(),
    });
  });

  afterEach(() => sqlite.close());

  it('refuses at delivery time a name that now resolves to loopback: nothing sent, the attempt logged as refused', async () => {
    const deliverer = new WebhookDeliverer(repo, new SecretBox(config(false)), config(false));
    expect(await deliverer.attempt(message('w1'), 1)).toBe('refused');
    expect(received).toEqual([]);
    expect(await repo.listDeliveries('w1', 10)).toMatchObject([{ attempt: 1, status: 'refused', responseCode: null }]);
  });

  it('with private targets allowed, sends a message the reference implementation verifies', async () => {
    const deliverer = new WebhookDeliverer(repo, new SecretBox(config(true)), config(true));
    expect(await deliverer.attempt(message('w1'), 2)).toBe('delivered');
    expect(received).toHaveLength(1);
    const headers = Object.fromEntries(Object.entries(received[0].headers).map(([name, value]) => [name, String(value)]));
    expect(new Webhook(SECRET).verify(received[0].body, headers)).toEqual({
      type: 'job.completed',
      timestamp: '2026-01-01T00:00:00.000Z',
      data: { id: 'job-1', status: 'completed' },
    });
    expect(await repo.listDeliveries('w1', 10)).toMatchObject([{ attempt: 2, status: 'delivered', responseCode: 200, excerpt: 'ok' }]);
  });

  it('does nothing for a webhook deleted meanwhile', async () => {
    const deliverer = new WebhookDeliverer(repo, new SecretBox(config(true)), config(true));
    await repo.deleteOwned('w1', 'u1');
    expect(await deliverer.attempt(message('w1'), 1)).toBe('gone');
    expect(received).toEqual([]);
  });
});
