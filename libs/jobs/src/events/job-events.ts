import { Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { AppConfig, RedisConnections } from '@app/core';
import type { JobStatusEvent } from '@app/shared';
import type { Job } from '../job';

/** What travels over Redis pub/sub: the event without URLs, which the api signs per recipient. */
export type JobStatusMessage = Omit<JobStatusEvent, 'thumbnailUrl' | 'downloadUrl'>;

/**
 * Status changes on Redis pub/sub. Publishers are the api (queued) and the workers (processing,
 * completed, failed); every api instance subscribes and forwards to its own sockets. Pub/sub keeps
 * the order of one publisher's messages; a lost message is healed by clients re-reading over REST.
 */
@Injectable()
export class JobEvents implements OnApplicationShutdown {
  private readonly logger = new Logger(JobEvents.name);
  private subscriber?: Redis;
  /** The pub/sub channel of status messages. */
  readonly channel: string;

  constructor(
    private readonly redis: RedisConnections,
    config: AppConfig,
  ) {
    this.channel = `${config.redis.prefix}:job-status`;
  }

  static messageOf(job: Job, timestamp = job.updatedAt.getTime()): JobStatusMessage {
    const message: JobStatusMessage = { jobId: job.id, userId: job.userId, status: job.status, timestamp };
    if (job.status === 'failed' && job.errorMessage) message.errorMessage = job.errorMessage;
    if (job.status === 'failed' && job.errorCode) message.errorCode = job.errorCode;
    return message;
  }

  /** A job's current status as published (for scripts that publish it along with other changes). */
  static encode(job: Job): string {
    return JSON.stringify(JobEvents.messageOf(job));
  }

  /** Publishes a job's current status. Never throws: the database stays the source of truth. */
  async publish(job: Job): Promise<void> {
    try {
      await this.redis.get('publisher').publish(this.channel, JobEvents.encode(job));
    } catch (error) {
      this.logger.warn(`Could not publish status "${job.status}" of job ${job.id}: ${(error as Error).message}`);
    }
  }

  /** Calls `handler` for every status message, in order; resolves once subscribed. */
  async subscribe(handler: (message: JobStatusMessage) => void): Promise<void> {
    this.subscriber ??= this.redis.create('subscriber');
    this.subscriber.on('message', (channel: string, payload: string) => {
      if (channel !== this.channel) return;
      let message: JobStatusMessage;
      try {
        message = JSON.parse(payload) as JobStatusMessage;
      } catch {
        this.logger.warn('Ignored a malformed status message');
        return;
      }
      handler(message);
    });
    await this.subscriber.subscribe(this.channel);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.subscriber?.quit().catch(() => this.subscriber?.disconnect());
  }
}
