import { Injectable, OnApplicationShutdown } from '@nestjs/common';
import { Queue } from 'bullmq';
import { AppConfig, RedisConnections } from '@app/core';
import type { JobView } from '@app/shared';
import type { WebhookEvent } from '../webhook';

/** The BullMQ queue of deliveries, apart from the thumbnails': a slow receiver never holds up a thumbnail. */
export const WEBHOOK_QUEUE = 'webhooks';

/** One event for one webhook: everything the message needs, fixed when the job ended. */
export interface WebhookDeliveryData {
  webhookId: string;
  /** `webhook-id`: the same on every attempt, so receivers can drop duplicates. */
  messageId: string;
  event: WebhookEvent;
  jobId: string;
  /** When the job ended (ISO 8601): the body's `timestamp`. */
  timestamp: string;
  /** The job as the REST API shows it then. */
  data: JobView;
}

/**
 * Puts deliveries on the `webhooks` queue with BullMQ's exponential backoff: WEBHOOK_MAX_ATTEMPTS
 * attempts, the n-th retry WEBHOOK_RETRY_BASE_MS × 2^(n-1) after the previous one (by default the
 * last comes 24 h after the first).
 */
@Injectable()
export class WebhookQueue implements OnApplicationShutdown {
  private readonly queue: Queue<WebhookDeliveryData>;

  constructor(
    private readonly config: AppConfig,
    redis: RedisConnections,
  ) {
    this.queue = new Queue<WebhookDeliveryData>(WEBHOOK_QUEUE, { connection: redis.get('queue'), prefix: config.redis.prefix });
    // Its connection's errors are logged by RedisConnections (BullMQ would print them as stack traces).
    this.queue.on('error', () => undefined);
  }

  async enqueue(deliveries: readonly WebhookDeliveryData[]): Promise<void> {
    if (deliveries.length === 0) return;
    const { maxAttempts, retryBaseMs } = this.config.webhooks;
    await this.queue.addBulk(
      deliveries.map((data) => ({
        name: data.event,
        data,
        opts: {
          jobId: data.messageId,
          attempts: maxAttempts,
          backoff: { type: 'exponential', delay: retryBaseMs },
          // The delivery log is in the database; finished queue entries only need to go.
          removeOnComplete: true,
          removeOnFail: { age: 7 * 24 * 3600, count: 1000 },
        },
      })),
    );
  }

  async onApplicationShutdown(): Promise<void> {
    await this.queue.close();
  }
}
