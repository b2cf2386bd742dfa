import type { Delivery, Webhook, WebhookEvent } from './webhook';

/** Persistence port for webhooks and their delivery log; adapters: SQLite and MongoDB. */
export abstract class WebhooksRepository {
  abstract create(webhook: Webhook): Promise<void>;
  /** The user's webhooks, oldest first. */
  abstract listOwned(userId: string): Promise<Webhook[]>;
  abstract findById(id: string): Promise<Webhook | null>;
  /** The webhook when it is the user's; null for anyone else's or a missing one. */
  abstract findOwned(id: string, userId: string): Promise<Webhook | null>;
  /** Deletes the user's webhook with its delivery log; false when it is not theirs or gone. */
  abstract deleteOwned(id: string, userId: string): Promise<boolean>;
  /** The user's webhooks subscribed to `event`. */
  abstract listForEvent(userId: string, event: WebhookEvent): Promise<Webhook[]>;
  abstract recordDelivery(delivery: Delivery): Promise<void>;
  /** A webhook's attempts, newest first. */
  abstract listDeliveries(webhookId: string, limit: number): Promise<Delivery[]>;
}
