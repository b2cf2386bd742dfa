import { Injectable, Logger } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { AppConfig, RedisConnections } from '@app/core';
import { IdempotencyRecords } from './idempotency.records';

/** How long a claim on a key lives without renewal: a resend after a crashed request waits at most this long. */
export const IDEMPOTENCY_LEASE_MS = 10_000;
/** Renewals per lease period, so that a late one or two still keep it. */
const RENEWALS_PER_LEASE = 3;

/** Deletes or extends the lease only while it is still ours (the token matches). */
const RELEASE = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0`;
const RENEW = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) end return 0`;

export type IdempotencyClaim =
  | { state: 'claimed'; lease: IdempotencyLease }
  | { state: 'in-progress' }
  | { state: 'done'; response: string };

/**
 * `Idempotency-Key` claims as leases: the request that claims a key holds `SET key token NX PX`
 * in Redis, renewed while it runs; its response is kept in the database (IdempotencyRecords) for
 * 24 h and replayed. A request that dies with its process stops renewing, and the key is free
 * again within IDEMPOTENCY_LEASE_MS instead of answering 409 for a day.
 */
@Injectable()
export class Idempotency {
  private readonly logger = new Logger('Idempotency');
  private readonly prefix: string;

  constructor(
    private readonly records: IdempotencyRecords,
    private readonly redis: RedisConnections,
    config: AppConfig,
  ) {
    this.prefix = `${config.redis.prefix}:idempotency:`;
  }

  async claim(userId: string, key: string, now = new Date()): Promise<IdempotencyClaim> {
    const done = await this.records.findResponse(userId, key, now);
    if (done !== null) return { state: 'done', response: done };
    const redisKey = `${this.prefix}${userId}:${key}`;
    const token = randomBytes(12).toString('hex');
    const client = this.redis.get('commands');
    let set: string | null;
    try {
      set = await client.set(redisKey, token, 'PX', IDEMPOTENCY_LEASE_MS, 'NX');
    } catch (error) {
      // Uploads go on while Redis is down (jobs wait in the database); so does this one, without a
      // lease: only two requests with the same key at the same moment could then both run.
      this.logger.warn(`${userId} ${key}: no lease, Redis unavailable (${(error as Error).message})`);
      return {
        state: 'claimed',
        lease: new IdempotencyLease(
          (response) => this.records.saveResponse(userId, key, response, new Date()),
          () => Promise.resolve(),
          () => Promise.resolve(true),
          () => undefined,
        ),
      };
    }
    if (set !== 'OK') return { state: 'in-progress' };
    // Finished (response kept, lease dropped) between the read above and the claim: replay it.
    const late = await this.records.findResponse(userId, key, new Date());
    const lease = new IdempotencyLease(
      async (response) => this.records.saveResponse(userId, key, response, new Date()),
      async () => void (await client.eval(RELEASE, 1, redisKey, token)),
      async () => Number(await client.eval(RENEW, 1, redisKey, token, IDEMPOTENCY_LEASE_MS)) === 1,
      (message) => this.logger.warn(`${userId} ${key}: ${message}`),
    );
    if (late !== null) {
      await lease.release();
      return { state: 'done', response: late };
    }
    return { state: 'claimed', lease };
  }
}

/** A claimed key: renewed until completed, released, or `stopRenewing` (its request is gone). */
export class IdempotencyLease {
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly save: (response: string) => Promise<void>,
    private readonly drop: () => Promise<void>,
    private readonly renew: () => Promise<boolean>,
    private readonly warn: (message: string) => void,
  ) {
    this.timer = setInterval(() => {
      this.renew().then(
        (held) => {
          if (!held) {
            this.warn('lease lost before the request finished (event loop or Redis stalled)');
            this.stopRenewing();
          }
        },
        (error: Error) => this.warn(`lease not renewed: ${error.message}`),
      );
    }, IDEMPOTENCY_LEASE_MS / RENEWALS_PER_LEASE);
    this.timer.unref();
  }

  /** Keeps the response for replays, then frees the lease. */
  async complete(response: string): Promise<void> {
    this.stopRenewing();
    try {
      await this.save(response);
    } finally {
      await this.drop().catch(() => undefined);
    }
  }

  /** Frees the key for a resend (the request failed and created nothing). */
  async release(): Promise<void> {
    this.stopRenewing();
    await this.drop();
  }

  /** Lets the lease run out on its own. */
  stopRenewing(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}
