import { Injectable, OnModuleInit } from '@nestjs/common';
import { newId } from '@app/core';
import { JobLifecycle, JobViewMapper, type Moved } from '@app/jobs';
import type { WebhookEvent } from '../webhook';
import { WebhooksRepository } from '../webhooks.repository';
import { WebhookQueue } from './webhook-queue';

/**
 * Turns the end of a job into deliveries: after every move into `completed` or `failed` (the
 * lifecycle's `after` seam; the runner knows nothing of webhooks) it puts one message per matching
 * webhook of the job's owner on the `webhooks` queue, with the job as the REST API shows it.
 * Only quick work here (one query, one write to Redis): the lifecycle awaits its observers.
 */
@Injectable()
export class WebhookDispatcher implements OnModuleInit {
  constructor(
    private readonly lifecycle: JobLifecycle,
    private readonly webhooks: WebhooksRepository,
    private readonly queue: WebhookQueue,
    private readonly views: JobViewMapper,
  ) {}

  onModuleInit(): void {
    this.lifecycle.after('completed', (moved) => this.dispatch('job.completed', moved));
    this.lifecycle.after('failed', (moved) => this.dispatch('job.failed', moved));
  }

  private async dispatch(event: WebhookEvent, { job }: Moved): Promise<void> {
    const targets = await this.webhooks.listForEvent(job.userId, event);
    if (targets.length === 0) return;
    const data = this.views.toView(job);
    const timestamp = job.updatedAt.toISOString();
    await this.queue.enqueue(
      targets.map((webhook) => ({
        webhookId: webhook.id,
        messageId: `msg_${newId().replace(/-/g, '')}`,
        event,
        jobId: job.id,
        timestamp,
        data,
      })),
    );
  }
}
