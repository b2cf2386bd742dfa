import { Injectable, Logger } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { AppConfig, RedisConnections, TooManyRequestsError } from '@app/core';

export interface ThrottleLimits {
  /** Failed logins allowed per email within the window. */
  perEmail: number;
  /** Failed logins allowed per client address within the window. */
  perAddress: number;
  windowSeconds: number;
}

export const DEFAULT_LOGIN_LIMITS: ThrottleLimits = { perEmail: 5, perAddress: 50, windowSeconds: 15 * 60 };

/**
 * Counts failed logins in Redis, per email and per client address, so the limit holds across api
 * instances. Counting happens whether or not the email exists: the 429 reveals nothing.
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
   * Rejects with 429 when either counter is at its limit. While Redis is unreachable the check is
   * skipped (logged): sign-in keeps working, still slowed by bcrypt.
   */
  async assertAllowed(email: string, address: string): Promise<void> {
    const [emailKey, addressKey] = this.keys(email, address);
    const client = this.redis.get('commands');
    let result: [Error | null, unknown][] | null;
    try {
      result = await client.multi().get(emailKey).pttl(emailKey).get(addressKey).pttl(addressKey).exec();
    } catch (error) {
      this.logger.warn(`Failed-login limit not checked (Redis unavailable: ${(error as Error).message})`);
      return;
    }
    const values = (result ?? []).map(([, value]) => value);
    const [emailCount, emailTtl, addressCount, addressTtl] = [
      Number(values[0] ?? 0),
      Number(values[1]),
      Number(values[2] ?? 0),
      Number(values[3]),
    ];
    if (emailCount >= this.limits.perEmail || addressCount >= this.limits.perAddress) {
      const ttlMs = Math.max(emailCount >= this.limits.perEmail ? emailTtl : 0, addressCount >= this.limits.perAddress ? addressTtl : 0);
      const retryAfter = Math.max(1, Math.ceil(ttlMs / 1000));
      throw new TooManyRequestsError(`Too many failed sign-in attempts. Try again in ${formatWait(retryAfter)}.`, retryAfter);
    }
  }

  async recordFailure(email: string, address: string): Promise<void> {
    const client = this.redis.get('commands');
    const multi = client.multi();
    for (const key of this.keys(email, address)) {
      multi.incr(key).expire(key, this.limits.windowSeconds, 'NX');
    }
    await multi.exec().catch((error: Error) => this.logger.warn(`Failed login not counted: ${error.message}`));
  }

  async recordSuccess(email: string): Promise<void> {
    await this.redis
      .get('commands')
      .del(this.keys(email, '')[0])
      .catch(() => undefined);
  }

  private keys(email: string, address: string): [string, string] {
    const prefix = `${this.config.redis.prefix}:login-fail`;
    // Hash the email so the keys do not list who tried to sign in.
    const emailHash = createHash('sha256').update(email).digest('base64url').slice(0, 22);
    return [`${prefix}:email:${emailHash}`, `${prefix}:addr:${address}`];
  }
}

function formatWait(seconds: number): string {
  if (seconds < 90) return `${seconds} seconds`;
  return `${Math.ceil(seconds / 60)} minutes`;
}
