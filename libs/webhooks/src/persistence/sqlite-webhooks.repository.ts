import { Injectable, OnModuleInit } from '@nestjs/common';
import { SqliteDatabase } from '@app/core';
import { isWebhookEvent, type Delivery, type DeliveryStatus, type Webhook, type WebhookEvent } from '../webhook';
import { WebhooksRepository } from '../webhooks.repository';
import { WEBHOOKS_SQLITE_MIGRATIONS } from './migrations';

interface WebhookRow {
  id: string;
  user_id: string;
  url: string;
  events: string;
  sealed_secret: string;
  created_at: number;
}

interface DeliveryRow {
  id: string;
  webhook_id: string;
  event: WebhookEvent;
  job_id: string;
  attempt: number;
  status: DeliveryStatus;
  response_code: number | null;
  excerpt: string | null;
  at: number;
}

@Injectable()
export class SqliteWebhooksRepository extends WebhooksRepository implements OnModuleInit {
  constructor(private readonly sqlite: SqliteDatabase) {
    super();
  }

  onModuleInit(): void {
    this.sqlite.migrate('webhooks', WEBHOOKS_SQLITE_MIGRATIONS);
  }

  async create(webhook: Webhook): Promise<void> {
    await this.sqlite.execute(
      'INSERT INTO webhooks (id, user_id, url, events, sealed_secret, created_at) VALUES (?, ?, ?, ?, ?, ?)',
      webhook.id,
      webhook.userId,
      webhook.url,
      webhook.events.join(','),
      webhook.sealedSecret,
      webhook.createdAt.getTime(),
    );
  }

  async listOwned(userId: string): Promise<Webhook[]> {
    return (await this.sqlite.all<WebhookRow>('SELECT * FROM webhooks WHERE user_id = ? ORDER BY id', String(userId))).map(toWebhook);
  }

  async findById(id: string): Promise<Webhook | null> {
    const row = await this.sqlite.get<WebhookRow>('SELECT * FROM webhooks WHERE id = ?', String(id));
    return row ? toWebhook(row) : null;
  }

  async findOwned(id: string, userId: string): Promise<Webhook | null> {
    const row = await this.sqlite.get<WebhookRow>('SELECT * FROM webhooks WHERE id = ? AND user_id = ?', String(id), String(userId));
    return row ? toWebhook(row) : null;
  }

  async deleteOwned(id: string, userId: string): Promise<boolean> {
    // The delivery log goes with it (ON DELETE CASCADE).
    return (await this.sqlite.execute('DELETE FROM webhooks WHERE id = ? AND user_id = ?', String(id), String(userId))) > 0;
  }

  async listForEvent(userId: string, event: WebhookEvent): Promise<Webhook[]> {
    return (await this.listOwned(userId)).filter((webhook) => webhook.events.includes(event));
  }

  async recordDelivery(delivery: Delivery): Promise<void> {
    await this.sqlite.execute(
      `INSERT INTO webhook_deliveries (id, webhook_id, event, job_id, attempt, status, response_code, excerpt, at)
       SELECT ?, ?, ?, ?, ?, ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM webhooks WHERE id = ?)`,
      delivery.id,
      delivery.webhookId,
      delivery.event,
      delivery.jobId,
      delivery.attempt,
      delivery.status,
      delivery.responseCode,
      delivery.excerpt,
      delivery.at.getTime(),
      delivery.webhookId,
    );
  }

  async listDeliveries(webhookId: string, limit: number): Promise<Delivery[]> {
    const rows = await this.sqlite.all<DeliveryRow>(
      'SELECT * FROM webhook_deliveries WHERE webhook_id = ? ORDER BY at DESC, id DESC LIMIT ?',
      String(webhookId),
      limit,
    );
    return rows.map((row) => ({
      id: row.id,
      webhookId: row.webhook_id,
      event: row.event,
      jobId: row.job_id,
      attempt: row.attempt,
      status: row.status,
      responseCode: row.response_code,
      excerpt: row.excerpt,
      at: new Date(row.at),
    }));
  }
}

function toWebhook(row: WebhookRow): Webhook {
  return {
    id: row.id,
    userId: row.user_id,
    url: row.url,
    events: row.events.split(',').filter(isWebhookEvent),
    sealedSecret: row.sealed_secret,
    createdAt: new Date(row.created_at),
  };
}
