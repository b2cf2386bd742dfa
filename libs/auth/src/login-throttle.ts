import { Injectable, Logger } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { AppConfig, RedisConnections, TooManyRequestsError } from '@app/core';

export interface ThrottleLimits {
  /** Failed logins allowed per (email, client address) within the window; then 429 for that pair. */
  perEmailAndAddress: number;
  /** Failed logins allowed per client address, whatever the email, within the window; then 429. */
  perAddress: number;
  /** Failed logins per email, from anywhere, after which every attempt for it waits (longer and longer). */
  perEmailDelayAfter: number;
  /**
   * Failed logins per email, from anywhere, after which every address that has failed for it gets
   * 429 (far above the pair's limit); an address with no failure for it still gets its turn.
   */
  perEmail: number;
  /** The first wait, doubled with each further failure, up to `maxDelayMs`. */
  baseDelayMs: number;
  maxDelayMs: number;
  windowSeconds: number;
}

export const DEFAULT_LOGIN_LIMITS: ThrottleLimits = {
  perEmailAndAddress: 5,
  perAddress: 50,
  perEmailDelayAfter: 10,
  perEmail: 100,
  baseDelayMs: 500,
  maxDelayMs: 10_000,
  windowSeconds: 15 * 60,
};

/**
 * Counts failed logins in Redis so the limits hold across api instances. The 429 comes per
 * (email, client address): someone guessing from elsewhere cannot lock the owner out of their own
 * address. Guessing one email from many addresses is slowed per email instead: past
 * `perEmailDelayAfter` failures each attempt waits (0.5 s, 1 s, 2 s … 10 s), and only at the far
 * higher `perEmail` is the email refused, to every address that has failed for it (each new
 * address gets one guess, the owner's clean address still signs in). Counting and waiting happen whether or not
 * the email exists: neither the 429 nor the timing tells.
 */
@Injectable()
export class LoginThrottle {
  private readonly logger = new Logger(LoginThrottle.name);
  limits: ThrottleLimits = DEFAULT_LOGIN_LIMITS;

  constructor(
    private readonly redis: RedisConnections,
    private readonly config: AppConfig,
  ) {}

  /**
   * Rejects with 429 when a counter is at its limit, otherwise waits as long as the email's
   * failures ask for. While Redis is unreachable the check is skipped (logged): sign-in keeps
   * working, still slowed by bcrypt.
   */
  async assertAllowed(email: string, address: string): Promise<void> {
    const keys = this.keys(email, address);
    const multi = this.redis.get('commands').multi();
    for (const key of [keys.pair, keys.address, keys.email]) multi.get(key).pttl(key);
    let result: [Error | null, unknown][] | null;
    try {
      result = await multi.exec();
    } catch (error) {
      this.logger.warn(`Failed-login limit not checked (Redis unavailable: ${(error as Error).message})`);
      return;
    }
    const values = (result ?? []).map(([, value]) => Number(value ?? 0));
    const [pairCount, pairTtl, addressCount, addressTtl, emailCount, emailTtl] = values;
    const blocked = [
      pairCount >= this.limits.perEmailAndAddress ? Math.max(pairTtl, 1000) : -1,
      addressCount >= this.limits.perAddress ? Math.max(addressTtl, 1000) : -1,
      // Not for an address that never failed for this email: the owner's, usually.
      emailCount >= this.limits.perEmail && pairCount > 0 ? Math.max(emailTtl, 1000) : -1,
    ];
    const blockedFor = Math.max(...blocked);
    if (blockedFor >= 0) {
      const retryAfter = Math.max(1, Math.ceil(blockedFor / 1000));
      throw new TooManyRequestsError(`Too many failed sign-in attempts. Try again in ${formatWait(retryAfter)}.`, retryAfter);
    }
    const delay = this.delayMs(emailCount);
    if (delay > 0) await sleep(delay);
  }

  /** The wait before an attempt for an email that has failed `failures` times in the window. */
  delayMs(failures: number): number {
    if (failures < this.limits.perEmailDelayAfter) return 0;
    const doublings = Math.min(failures - this.limits.perEmailDelayAfter, 30);
    return Math.min(this.limits.maxDelayMs, this.limits.baseDelayMs * 2 ** doublings);
  }

  async recordFailure(email: string, address: string): Promise<void> {
    const multi = this.redis.get('commands').multi();
    for (const key of Object.values(this.keys(email, address))) {
      multi.incr(key).expire(key, this.limits.windowSeconds, 'NX');
    }
    await multi.exec().catch((error: Error) => this.logger.warn(`Failed login not counted: ${error.message}`));
  }

  /**
   * The owner signed in from this address: that pair starts afresh. The email's own count stays
   * until the window ends, so guesses from elsewhere keep being slowed.
   */
  async recordSuccess(email: string, address: string): Promise<void> {
    await this.redis
      .get('commands')
      .del(this.keys(email, address).pair)
      .catch(() => undefined);
  }

  private keys(email: string, address: string): { pair: string; address: string; email: string } {
    const prefix = `${this.config.redis.prefix}:login-fail`;
    // Hash the email so the keys do not list who tried to sign in.
    const emailHash = createHash('sha256').update(email).digest('base64url').slice(0, 22);
    return { pair: `${prefix}:pair:${emailHash}:${address}`, address: `${prefix}:addr:${address}`, email: `${prefix}:email:${emailHash}` };
  }
}

function formatWait(seconds: number): string {
  if (seconds < 90) return `${seconds} seconds`;
  return `${Math.ceil(seconds / 60)} minutes`;
}
