import { BeforeApplicationShutdown, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { Job as BullJob, UnrecoverableError, Worker } from 'bullmq';
import { AppConfig, RedisConnections } from '@app/core';
import { WEBHOOK_QUEUE, WebhookDeliverer, WebhookDeliveryData } from '@app/webhooks';

/** Deliveries in flight per worker process: they mostly wait on the network. */
const CONCURRENCY = 8;

/**
 * Consumes the `webhooks` queue: one attempt per run (WebhookDeliverer). A failed attempt throws,
 * so BullMQ retries it with the backoff the job was queued with; a target that now leads to a
 * refused address is not retried. Built by hand like ThumbnailConsumer (options from the config).
 */
@Injectable()
export class WebhookConsumer implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(WebhookConsumer.name);
  private worker?: Worker<WebhookDeliveryData>;

  constructor(
    private readonly config: AppConfig,
    private readonly redis: RedisConnections,
    private readonly deliverer: WebhookDeliverer,
  ) {}

  onApplicationBootstrap(): void {
    this.worker = new Worker<WebhookDeliveryData>(WEBHOOK_QUEUE, (job) => this.process(job), {
      connection: this.redis.create('worker'),
      prefix: this.config.redis.prefix,
      concurrency: CONCURRENCY,
      // An attempt lasts at most WEBHOOK_TIMEOUT_MS (plus the DNS lookup): the lock outlives it.
      lockDuration: Math.max(30_000, 3 * this.config.webhooks.timeoutMs),
      autorun: true,
    });
    this.worker.on('error', (error) => this.logger.warn(`Webhook queue connection: ${error.message}`));
  }

  private async process(job: BullJob<WebhookDeliveryData>): Promise<void> {
    const outcome = await this.deliverer.attempt(job.data, job.attemptsMade + 1);
    if (outcome === 'refused') throw new UnrecoverableError('The webhook URL leads to an address webhooks may not reach');
    if (outcome === 'failed') throw new Error('Delivery attempt failed; retried with backoff');
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.worker?.close();
  }
}
