import { Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { AppConfig, closeRedis, RedisConnections } from '@app/core';
import type { JobStatusEvent } from '@app/shared';

/** What travels over Redis pub/sub: the event without URLs, which the api signs per recipient. */
export type JobStatusMessage = Omit<JobStatusEvent, 'thumbnailUrl' | 'downloadUrl'>;

/**
 * The transport of status events: Redis pub/sub. What is published, and when, is decided by
 * JobLifecycle alone (which also sends some messages inside the FIFO scripts, on the same
 * channel); every api instance subscribes and forwards to its own sockets. Pub/sub keeps the order
 * of one connection's messages; a lost message is healed by clients re-reading over REST.
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

  /**
   * Publishes a status message (made by JobLifecycle). Never throws: the database stays the source
   * of truth, and clients re-read it after a reconnect.
   */
  async publish(message: string): Promise<void> {
    try {
      await this.redis.get('publisher').publish(this.channel, message);
    } catch (error) {
      this.logger.warn(`Could not publish a status change (${message}): ${(error as Error).message}`);
    }
  }

  /**
   * Calls `handler` for every status message, in order; resolves once subscribed. `resumed` is
   * called each time the subscription is back after its connection was lost (messages published
   * meanwhile are gone: whoever forwards them must have clients re-read), once it is subscribed again.
   */
  async subscribe(handler: (message: JobStatusMessage) => void, resumed?: () => void): Promise<void> {
    this.subscriber ??= this.redis.create('subscriber');
    const subscriber = this.subscriber;
    let lost = false;
    subscriber.on('close', () => {
      lost = true;
    });
    subscriber.on('ready', () => {
      if (!lost) return;
      lost = false;
      // ioredis subscribes again by itself on reconnection; subscribing here too (idempotent) is
      // what says when that is done, so nothing published after the resync can be missed.
      subscriber.subscribe(this.channel).then(
        () => {
          this.logger.warn('Status subscription restored after a lost Redis connection: clients are asked to re-read their jobs');
          resumed?.();
        },
        (error: Error) => this.logger.warn(`Could not subscribe again: ${error.message}`),
      );
    });
    subscriber.on('message', (channel: string, payload: string) => {
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
    await subscriber.subscribe(this.channel);
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.subscriber) await closeRedis(this.subscriber);
  }
}
