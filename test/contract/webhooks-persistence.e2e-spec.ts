import { MongooseModule } from '@nestjs/mongoose';
import { Test, TestingModule } from '@nestjs/testing';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DatabaseConfig, DatabaseModule, newId } from '@app/core';
import { Delivery, Webhook, WebhooksRepository } from '@app/webhooks';
import {
  MongoWebhooksRepository,
  SqliteWebhooksRepository,
  WebhookDeliveryDocument,
  WebhookDeliverySchema,
  WebhookDocument,
  WebhookSchema,
} from '@app/webhooks/adapters';

jest.setTimeout(120_000);

/**
 * The webhooks port's contract for both adapters (beside persistence.e2e-spec.ts, same rules):
 * SQLite always; MongoDB when MONGO_URL points at a server (its own database, dropped after).
 */
const adapters: { name: string; config: () => DatabaseConfig }[] = [];
const sqliteDir = fs.mkdtempSync(path.join(os.tmpdir(), 'thumbs-webhooks-contract-'));
adapters.push({ name: 'SQLite', config: () => ({ kind: 'sqlite', url: 'sqlite:', path: path.join(sqliteDir, `c-${newId()}.db`) }) });
if (process.env.MONGO_URL) {
  adapters.push({
    name: 'MongoDB',
    config: () => {
      const url = new URL(process.env.MONGO_URL!);
      url.pathname = `/thumbs_webhooks_${process.env.THUMBS_TEST_RUN ?? 'local'}_${Date.now().toString(36)}`;
      return { kind: 'mongo', url: url.toString() };
    },
  });
} else {
  console.log('Webhooks persistence contract: MongoDB adapter NOT run — MONGO_URL is not set (SQLite ran).');
}

async function compile(config: DatabaseConfig): Promise<TestingModule> {
  const mongo = config.kind === 'mongo';
  const module = await Test.createTestingModule({
    imports: [
      DatabaseModule.forRoot(config),
      ...(mongo
        ? [
            MongooseModule.forFeature([
              { name: WebhookDocument.name, schema: WebhookSchema },
              { name: WebhookDeliveryDocument.name, schema: WebhookDeliverySchema },
            ]),
          ]
        : []),
    ],
    providers: [{ provide: WebhooksRepository, useClass: mongo ? MongoWebhooksRepository : SqliteWebhooksRepository }],
  }).compile();
  await module.init();
  return module;
}

const hook = (userId: string, events: Webhook['events']): Webhook => ({
  id: newId(),
  userId,
  url: `https://example.com/${newId()}`,
  events,
  sealedSecret: `v1.sealed.${newId()}`,
  createdAt: new Date(Math.floor(Date.now() / 1000) * 1000),
});

const delivery = (webhookId: string, attempt: number, at: number): Delivery => ({
  id: newId(),
  webhookId,
  event: 'job.completed',
  jobId: 'job-1',
  attempt,
  status: attempt === 1 ? 'failed' : 'delivered',
  responseCode: attempt === 1 ? 500 : 200,
  excerpt: attempt === 1 ? 'broke' : null,
  at: new Date(at),
});

describe.each(adapters)('webhooks persistence contract: $name', ({ config }) => {
  let module: TestingModule;
  let repo: WebhooksRepository;
  let databaseConfig: DatabaseConfig;

  beforeAll(async () => {
    databaseConfig = config();
    module = await compile(databaseConfig);
    repo = module.get(WebhooksRepository);
  });

  afterAll(async () => {
    if (databaseConfig?.kind === 'mongo')
      await module.get<{ db: { dropDatabase(): Promise<unknown> } }>(`${WebhookDocument.name}Model`).db.dropDatabase();
    await module?.close();
  });

  it('keeps webhooks to their owner and finds them by event', async () => {
    const [ann, bob] = [newId(), newId()];
    const a = hook(ann, ['job.completed', 'job.failed']);
    const b = hook(ann, ['job.failed']);
    const c = hook(bob, ['job.completed']);
    for (const webhook of [a, b, c]) await repo.create(webhook);
    expect(await repo.listOwned(ann)).toEqual([a, b]);
    expect(await repo.findOwned(c.id, ann)).toBeNull();
    expect(await repo.findOwned(a.id, ann)).toEqual(a);
    expect(await repo.findById(c.id)).toEqual(c);
    expect(await repo.listForEvent(ann, 'job.completed')).toEqual([a]);
    expect(await repo.listForEvent(ann, 'job.failed')).toEqual([a, b]);
    expect(await repo.deleteOwned(c.id, ann)).toBe(false);
    expect(await repo.findById(c.id)).not.toBeNull();
  });

  it('lists attempts newest first and deletes them with their webhook', async () => {
    const owner = newId();
    const webhook = hook(owner, ['job.completed']);
    await repo.create(webhook);
    const first = delivery(webhook.id, 1, 1_000_000);
    const second = delivery(webhook.id, 2, 2_000_000);
    await repo.recordDelivery(first);
    await repo.recordDelivery(second);
    expect(await repo.listDeliveries(webhook.id, 10)).toEqual([second, first]);
    expect(await repo.listDeliveries(webhook.id, 1)).toEqual([second]);
    expect(await repo.deleteOwned(webhook.id, owner)).toBe(true);
    expect(await repo.findById(webhook.id)).toBeNull();
    expect(await repo.listDeliveries(webhook.id, 10)).toEqual([]);
    // An attempt that ends after its webhook was deleted is not recorded.
    await repo.recordDelivery(delivery(webhook.id, 3, 3_000_000));
    expect(await repo.listDeliveries(webhook.id, 10)).toEqual([]);
  });
});

afterAll(() => fs.rmSync(sqliteDir, { recursive: true, force: true }));
