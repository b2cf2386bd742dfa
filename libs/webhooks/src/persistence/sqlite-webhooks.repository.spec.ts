import { SqliteDatabase } from '@app/core';
import type { Delivery, Webhook } from '../webhook';
import { SqliteWebhooksRepository } from './sqlite-webhooks.repository';

describe('SqliteWebhooksRepository (real SQLite)', () => {
  let sqlite: SqliteDatabase;
  let repo: SqliteWebhooksRepository;

  const hook = (id: string, userId: string, events: Webhook['events']): Webhook => ({
    id,
    userId,
    url: `https://example.com/${id}`,
    events,
    sealedSecret: `v1.sealed-${id}`,
    createdAt: new Date(1_700_000_000_000),
  });
  const delivery = (id: string, webhookId: string, attempt: number, at: number): Delivery => ({
    id,
    webhookId,
    event: 'job.completed',
    jobId: 'job-1',
    attempt,
    status: attempt === 1 ? 'failed' : 'delivered',
    responseCode: attempt === 1 ? 500 : 200,
    excerpt: 'x',
    at: new Date(at),
  });

  beforeEach(() => {
    sqlite = new SqliteDatabase(':memory:');
    repo = new SqliteWebhooksRepository(sqlite);
    repo.onModuleInit();
  });

  afterEach(() => sqlite.close());

  it('keeps webhooks to their owner and finds them by event', async () => {
    await repo.create(hook('a', 'ann', ['job.completed', 'job.failed']));
    await repo.create(hook('b', 'ann', ['job.failed']));
    await repo.create(hook('c', 'bob', ['job.completed']));
    expect((await repo.listOwned('ann')).map((w) => w.id)).toEqual(['a', 'b']);
    expect(await repo.findOwned('c', 'ann')).toBeNull();
    expect(await repo.findOwned('a', 'ann')).toEqual(hook('a', 'ann', ['job.completed', 'job.failed']));
    expect((await repo.listForEvent('ann', 'job.completed')).map((w) => w.id)).toEqual(['a']);
    expect((await repo.listForEvent('ann', 'job.failed')).map((w) => w.id)).toEqual(['a', 'b']);
    expect(await repo.deleteOwned('c', 'ann')).toBe(false);
    expect(await repo.findById('c')).not.toBeNull();
  });

  it('lists attempts newest first and deletes them with their webhook', async () => {
    await repo.create(hook('a', 'ann', ['job.completed']));
    await repo.recordDelivery(delivery('d1', 'a', 1, 1000));
    await repo.recordDelivery(delivery('d2', 'a', 2, 2000));
    expect((await repo.listDeliveries('a', 10)).map((d) => [d.id, d.attempt, d.status, d.responseCode])).toEqual([
      ['d2', 2, 'delivered', 200],
      ['d1', 1, 'failed', 500],
    ]);
    expect(await repo.listDeliveries('a', 1)).toHaveLength(1);
    expect(await repo.deleteOwned('a', 'ann')).toBe(true);
    expect(sqlite.db.prepare('SELECT COUNT(*) AS n FROM webhook_deliveries').get()).toEqual({ n: 0 });
    // An attempt that ends after its webhook was deleted is not recorded.
    await repo.recordDelivery(delivery('d3', 'a', 3, 3000));
    expect(await repo.listDeliveries('a', 10)).toEqual([]);
  });
});
