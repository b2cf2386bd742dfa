import { Injectable, Logger } from '@nestjs/common';
import { EventEmitter } from 'node:events';
import { createHmac, hkdfSync, randomBytes } from 'node:crypto';
import { AppConfig, InvalidInputError, isId, newId, NotFoundError, RedisConnections, TooManyRequestsError } from '@app/core';
import { API_KEY_PREFIX, API_KEY_SCOPES, ApiKeyScope, ApiKeyView, CreatedApiKeyView } from '@app/shared';
import { ApiKey, ApiKeysRepository } from './api-keys.repository';
import type { AuthUser } from './auth.service';
import { UsersRepository } from './users.repository';

/** `thumbs_` and 32 random bytes in base64url (43 characters). */
const API_KEY_FORMAT = /^thumbs_[A-Za-z0-9_-]{43}$/;

/** lastUsedAt is written at most this often per key: a busy script would otherwise write on every request. */
const TOUCH_INTERVAL_MS = 60_000;

export const MAX_API_KEYS_PER_USER = 50;

/**
 * API keys for programs. A key is `thumbs_` + 32 random bytes, shown once; the database keeps its
 * HMAC-SHA256 under a server secret (derived from JWT_SECRET), looked up by that value.
 *
 * Why a fast keyed hash and not bcrypt/argon2: slow hashes exist to make guessing low-entropy
 * passwords expensive. A key of 256 random bits cannot be guessed at any speed, so slowness buys
 * nothing and would cost every API request a deliberate ~50 ms of CPU. A plain SHA-256 would
 * already be safe against brute force; the HMAC key adds that a stolen database alone cannot even
 * confirm a candidate key without the server secret. A deterministic hash also makes the lookup one
 * indexed equality query, where salted slow hashes need a key id in the token and a second step.
 */
@Injectable()
export class ApiKeysService {
  private readonly logger = new Logger(ApiKeysService.name);
  private readonly hmacKey: Buffer;
  /** `revoked` (key id): sockets opened with that key close at once (on this api instance). */
  readonly revocations = new EventEmitter();

  constructor(
    private readonly keys: ApiKeysRepository,
    private readonly users: UsersRepository,
    private readonly redis: RedisConnections,
    private readonly config: AppConfig,
  ) {
    this.hmacKey = Buffer.from(hkdfSync('sha256', config.auth.jwtSecret, 'thumbs', 'api-key-hmac-v1', 32));
  }

  async create(userId: string, name: string, scopes: readonly ApiKeyScope[]): Promise<CreatedApiKeyView> {
    const unique = [...new Set(scopes)];
    if (unique.length === 0) throw new InvalidInputError('scopes must name at least one of read, upload, delete');
    if ((await this.keys.listByUser(userId)).length >= MAX_API_KEYS_PER_USER) {
      throw new InvalidInputError(`You have ${MAX_API_KEYS_PER_USER} API keys already; revoke one first.`);
    }
    const key = API_KEY_PREFIX + randomBytes(32).toString('base64url');
    const record: ApiKey = {
      id: newId(),
      userId,
      name,
      scopes: API_KEY_SCOPES.filter((scope) => unique.includes(scope)),
      keyHash: this.hash(key),
      createdAt: new Date(),
      lastUsedAt: null,
    };
    await this.keys.insert(record);
    return { ...toApiKeyView(record), key };
  }

  async list(userId: string): Promise<ApiKeyView[]> {
    return (await this.keys.listByUser(userId)).map(toApiKeyView);
  }

  /** Deletes the user's key; 404 for a missing key and for anyone else's alike. Effective at once. */
  async revoke(userId: string, id: string): Promise<void> {
    if (!isId(id) || !(await this.keys.deleteOwned(id, userId))) throw new NotFoundError('API key not found');
    this.revocations.emit('revoked', id);
  }

  /**
   * The caller behind a presented key (with the key's id and scopes), or null for a malformed,
   * unknown or revoked key, or one whose user is gone. Records lastUsedAt (at most once a minute).
   */
  async authenticate(presented: string): Promise<AuthUser | null> {
    if (!API_KEY_FORMAT.test(presented)) return null;
    const key = await this.keys.findByHash(this.hash(presented));
    if (!key) return null;
    const user = await this.users.findById(key.userId);
    if (!user) return null;
    const now = new Date();
    if (!key.lastUsedAt || now.getTime() - key.lastUsedAt.getTime() >= TOUCH_INTERVAL_MS) {
      void this.keys
        .touch(key.id, now)
        .catch((error: Error) => this.logger.warn(`lastUsedAt of API key ${key.id} not recorded: ${error.message}`));
    }
    return { id: user.id, email: user.email, apiKey: { id: key.id, scopes: key.scopes } };
  }

  /** Whether a key still exists (sockets opened with it re-check now and then). */
  async exists(id: string): Promise<boolean> {
    return (await this.keys.findById(id)) !== null;
  }

  /**
   * Rate limit per key over every route (RATE_LIMIT_API_KEY a minute, fixed one-minute windows in
   * Redis, so it holds across api instances). While Redis is unreachable requests go through.
   */
  async assertWithinRate(keyId: string): Promise<void> {
    const limit = this.config.http.rateLimits.apiKeyPerMinute;
    const windowStart = Math.floor(Date.now() / 60_000);
    const redisKey = `${this.config.redis.prefix}:api-key-rate:${keyId}:${windowStart}`;
    let count: number;
    try {
      const result = await this.redis.get('commands').multi().incr(redisKey).expire(redisKey, 61).exec();
      count = Number(result?.[0]?.[1] ?? 0);
    } catch (error) {
      this.logger.warn(`API key rate limit not checked (Redis unavailable: ${(error as Error).message})`);
      return;
    }
    if (count > limit) {
      const retryAfter = Math.max(1, Math.ceil(((windowStart + 1) * 60_000 - Date.now()) / 1000));
      throw new TooManyRequestsError(
        `Too many requests with this API key (at most ${limit} a minute). Try again in ${retryAfter} seconds.`,
        retryAfter,
      );
    }
  }

  private hash(key: string): string {
    return createHmac('sha256', this.hmacKey).update(key).digest('hex');
  }
}

export function toApiKeyView(key: ApiKey): ApiKeyView {
  return {
    id: key.id,
    name: key.name,
    scopes: [...key.scopes],
    createdAt: key.createdAt.toISOString(),
    lastUsedAt: key.lastUsedAt?.toISOString() ?? null,
  };
}
