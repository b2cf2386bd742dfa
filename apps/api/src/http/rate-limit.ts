import { ExecutionContext, Injectable, Logger } from '@nestjs/common';
import { ThrottlerGuard, ThrottlerModule } from '@nestjs/throttler';
import { ThrottlerStorageRedisService } from '@nest-lab/throttler-storage-redis';
import type { Request, Response } from 'express';
import { AppConfig, RedisConnections, TooManyRequestsError } from '@app/core';

/** Named limits; each rate-limited route skips the ones that are not its own. */
const RATE_LIMITS = { auth: 'auth', uploads: 'uploads', archives: 'archives' } as const;

/**
 * Rate limits counted in Redis, so they hold across api instances: sign-in and registration per
 * client address, uploads and zip archives per signed-in user. Limits come from the config.
 */
export const rateLimitModule = ThrottlerModule.forRootAsync({
  inject: [AppConfig, RedisConnections],
  useFactory: (config: AppConfig, redis: RedisConnections) => ({
    throttlers: [
      { name: RATE_LIMITS.auth, ttl: 60_000, limit: config.http.rateLimits.authPerMinute },
      { name: RATE_LIMITS.uploads, ttl: 60_000, limit: config.http.rateLimits.uploadsPerMinute },
      { name: RATE_LIMITS.archives, ttl: 60_000, limit: config.http.rateLimits.archivesPerMinute },
    ],
    storage: new ThrottlerStorageRedisService(redis.get('throttle')),
  }),
});

/**
 * Counts per caller; while Redis is unreachable it lets requests through (with a warning)
 * rather than turning a queue outage into refused uploads and sign-ins.
 */
@Injectable()
export class RateLimitGuard extends ThrottlerGuard {
  private readonly log = new Logger('RateLimit');

  override async canActivate(context: ExecutionContext): Promise<boolean> {
    try {
      return await super.canActivate(context);
    } catch (error) {
      if (error instanceof TooManyRequestsError) throw error;
      this.log.warn(`Rate limit not checked (Redis unavailable: ${(error as Error).message}); request allowed`);
      return true;
    }
  }

  protected override getTracker(req: Record<string, unknown>): Promise<string> {
    const user = req.user as { id?: string } | undefined;
    // Per user, whether by a session or any of the user's API keys: counted per key, a user could
    // multiply the upload and archive limits by making keys.
    return Promise.resolve(user?.id ? `user:${user.id}` : `ip:${(req as unknown as Request).ip}`);
  }

  /** One counter per limit and caller across routes (sign-in and registration share "auth"). */
  protected override generateKey(_context: ExecutionContext, tracker: string, throttlerName: string): string {
    return `${throttlerName}:${tracker}`;
  }

  protected override throwThrottlingException(
    context: ExecutionContext,
    detail: { timeToBlockExpire: number; limit: number },
  ): Promise<void> {
    const retryAfter = Math.max(1, Math.ceil(detail.timeToBlockExpire));
    context.switchToHttp().getResponse<Response>().setHeader('Retry-After', String(retryAfter));
    throw new TooManyRequestsError(`Too many requests (at most ${detail.limit} a minute). Try again in ${retryAfter} seconds.`, retryAfter);
  }
}
