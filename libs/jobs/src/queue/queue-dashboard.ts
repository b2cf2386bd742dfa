import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import { InjectQueue } from '@nestjs/bullmq';
import { Injectable } from '@nestjs/common';
import type { Queue } from 'bullmq';
import type { Router } from 'express';
import { THUMBNAIL_QUEUE, type ThumbnailJobData } from './job-queue';

/**
 * The operators' view of the BullMQ queue (bull-board). Read-only: a job moves only through
 * JobLifecycle, so the dashboard's retry, promote, clean and remove buttons are off.
 */
@Injectable()
export class QueueDashboard {
  constructor(@InjectQueue(THUMBNAIL_QUEUE) private readonly queue: Queue<ThumbnailJobData>) {}

  /** An Express router serving the dashboard at `basePath` (the caller guards it). */
  router(basePath: string): Router {
    const adapter = new ExpressAdapter();
    adapter.setBasePath(basePath);
    createBullBoard({
      queues: [new BullMQAdapter(this.queue, { readOnlyMode: true })],
      serverAdapter: adapter,
      options: { uiConfig: { boardTitle: 'thumbs queue' } },
    });
    return adapter.getRouter() as Router;
  }
}
