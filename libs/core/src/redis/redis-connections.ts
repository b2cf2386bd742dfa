import { Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import IORedis, { Redis, RedisOptions } from 'ioredis';
import { AppConfig } from '../config/app-config';

export type RedisRole = 'commands' | 'publisher' | 'subscriber' | 'queue' | 'worker' | 'throttle';

/**
 * Makes and owns the process's Redis connections. Every connection reconnects by itself with
 * capped backoff; `commands` and `publisher` fail a command fast while Redis is down, so an HTTP
 * request never hangs on it, while BullMQ's connections wait (BullMQ requires that).
 */
@Injectable()
export class RedisConnections implements OnApplicationShutdown {
  private readonly logger = new Logger(RedisConnections.name);
  private readonly clients = new Map<string, Redis>();
  /** Every connection made, shared or not, so none outlives the application. */
  private readonly made = new Set<Redis>();

  constructor(private readonly config: AppConfig) {}

  /** Shared connection for a role, made on first use. */
  get(role: RedisRole): Redis {
    let client = this.clients.get(role);
    if (!client) {
      client = this.create(role);
      this.clients.set(role, client);
    }
    return client;
  }

  /** A new connection for one user (e.g. a blocking consumer); closed at shutdown if still open. */
  create(role: RedisRole): Redis {
    const client = new IORedis(this.config.redis.url, this.options(role));
    this.made.add(client);
    client.once('end', () => this.made.delete(client));
    let wasReady = false;
    client.on('ready', () => {
      if (wasReady) this.logger.log(`Redis connection "${role}" is back`);
      wasReady = true;
    });
    client.on('error', (error: Error) => {
      this.logger.warn(`Redis connection "${role}": ${error.message}`);
    });
    return client;
  }

  options(role: RedisRole): RedisOptions {
    const blocking = role === 'queue' || role === 'worker' || role === 'subscriber';
    return {
      connectionName: `${this.config.redis.prefix}:${role}`,
      // BullMQ needs null here; for plain commands, fail after a few tries rather than hang.
      maxRetriesPerRequest: blocking ? null : 2,
      commandTimeout: blocking ? undefined : 5000,
      retryStrategy: (attempt) => Math.min(100 * 2 ** Math.min(attempt, 6), 3000),
      reconnectOnError: (error) => error.message.startsWith('READONLY'),
      // The rate limiter's library has no prefix option: its keys get ours through the client.
      keyPrefix: role === 'throttle' ? `${this.config.redis.prefix}:throttle:` : undefined,
    };
  }

  async onApplicationShutdown(): Promise<void> {
    const clients = [...this.made];
    this.clients.clear();
    this.made.clear();
    await Promise.all(clients.map((client) => client.quit().catch(() => client.disconnect())));
  }
}
