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
    await Promise.all(clients.map((client) => closeRedis(client)));
  }
}

/**
 * Closes a connection: QUIT when it is up (bounded: a Redis that stops answering meanwhile must
 * not hold a shutdown), else at once. A QUIT on a connection that is down waits in the offline
 * queue for a Redis that may never come back: the process then never exited on SIGTERM.
 */
export async function closeRedis(client: Redis, waitMs = 2000): Promise<void> {
  if (client.status !== 'ready') {
    client.disconnect();
    return;
  }
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    client.quit().catch(() => undefined),
    new Promise((resolve) => {
      timer = setTimeout(resolve, waitMs);
    }),
  ]);
  clearTimeout(timer);
  if ((client.status as string) !== 'end') client.disconnect();
}

/**
 * Resolves once Redis at `url` answers PING, trying again with a backoff up to `maxDelayMs`; says
 * so through `log` at the first failure and every half-minute after (host and port only: the URL
 * may hold a password). For processes that cannot start without Redis (a worker): started while
 * it is down, they wait instead of exiting and being restarted until a supervisor gives up.
 */
export async function waitForRedis(url: string, log: (message: string) => void, maxDelayMs = 5000): Promise<void> {
  const where = (() => {
    try {
      const parsed = new URL(url);
      return `${parsed.hostname}:${parsed.port || '6379'}`;
    } catch {
      return 'REDIS_URL';
    }
  })();
  let lastSaid = 0;
  for (let attempt = 0; ; attempt += 1) {
    // Bounded: a peer that takes the connection and never answers must not hold the start silently.
    const client = new IORedis(url, {
      lazyConnect: true,
      enableOfflineQueue: false,
      retryStrategy: () => null,
      maxRetriesPerRequest: 0,
      connectTimeout: 5000,
      commandTimeout: 5000,
    });
    // The socket's own error (ECONNREFUSED…) says more than connect()'s "Connection is closed".
    let problem = '';
    client.on('error', (error: Error) => {
      problem ||= error.message;
    });
    try {
      await client.connect();
      await client.ping();
      if (attempt > 0) log(`Redis at ${where} answers: starting`);
      return;
    } catch (error) {
      // A wrong password or user is the configuration's, not Redis being away: waiting cannot help.
      const reason = problem || (error as Error).message;
      if (/WRONGPASS|NOAUTH|NOPERM|invalid (username|password)/i.test(reason))
        throw new Error(`Redis at ${where} refused the connection: ${reason}`, { cause: error });
      if (Date.now() - lastSaid >= 30_000) {
        log(`Waiting for Redis at ${where} (${reason}); starting once it answers`);
        lastSaid = Date.now();
      }
    } finally {
      client.disconnect();
    }
    await new Promise((resolve) => setTimeout(resolve, Math.min(maxDelayMs, 250 * 2 ** Math.min(attempt, 5))));
  }
}
