/** Events a webhook can subscribe to (CONTRACT.md): a job ended one way or the other. */
export const WEBHOOK_EVENTS = ['job.completed', 'job.failed'] as const;
export type WebhookEvent = (typeof WEBHOOK_EVENTS)[number];

export function isWebhookEvent(value: unknown): value is WebhookEvent {
  return (WEBHOOK_EVENTS as readonly unknown[]).includes(value);
}

/** A user's subscription: where to POST which events, and the (sealed) key that signs them. */
export interface Webhook {
  id: string;
  userId: string;
  url: string;
  events: WebhookEvent[];
  /** The signing secret sealed with SecretBox; only the worker opens it, to sign. */
  sealedSecret: string;
  createdAt: Date;
}

/**
 * - `delivered`: the receiver answered 2xx
 * - `failed`: another answer, no answer in time, or no connection (retried)
 * - `refused`: the target resolves to an address webhooks may not reach (not retried)
 */
export const DELIVERY_STATUSES = ['delivered', 'failed', 'refused'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

/** The longest response excerpt kept with an attempt, in bytes. */
export const EXCERPT_BYTES = 512;

/** One attempt to deliver one event to one webhook. */
export interface Delivery {
  id: string;
  webhookId: string;
  event: WebhookEvent;
  jobId: string;
  /** 1 for the first try. */
  attempt: number;
  status: DeliveryStatus;
  responseCode: number | null;
  /** The start of the answer's body (or why there was none), at most EXCERPT_BYTES bytes. */
  excerpt: string | null;
  at: Date;
}
