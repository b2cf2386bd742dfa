import { Injectable, Logger } from '@nestjs/common';
import { createHash, randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { AppConfig, newId, UnauthorizedError } from '@app/core';
import type { AuthResult } from '@app/shared';
import { AuthService } from './auth.service';
import { RefreshTokensRepository } from './refresh-tokens.repository';
import { UsersRepository } from './users.repository';

/** A refresh token handed to the client (as a cookie) and when it stops working. */
export interface IssuedRefreshToken {
  token: string;
  expiresAt: Date;
}

export interface RefreshedSession {
  result: AuthResult;
  refresh: IssuedRefreshToken;
}

const SESSION_ENDED = 'Your session has ended. Sign in again.';

/**
 * Refresh sessions with rotation and reuse detection (OAuth 2.0 Security BCP, "refresh token
 * rotation"): every refresh exchanges the presented token for a new one of the same family; a
 * token presented after it was exchanged means two parties hold the chain (one of them stole it),
 * so the whole family is revoked and both must sign in again. Tokens are 32 random bytes; only
 * their SHA-256 is stored (a database leak yields nothing usable; no slow hash is needed for
 * 256 bits of entropy).
 */
@Injectable()
export class SessionsService {
  private readonly logger = new Logger(SessionsService.name);
  /** `ended` (session id): sockets signed in with that session close at once (on this api instance). */
  readonly ended = new EventEmitter();

  constructor(
    private readonly tokens: RefreshTokensRepository,
    private readonly users: UsersRepository,
    private readonly auth: AuthService,
    private readonly config: AppConfig,
  ) {}

  /** A new session id (refresh token family) for a sign-in, to bind its access token to before start(). */
  newSessionId(): string {
    return newId();
  }

  /** Starts the family `sessionId` for a user who just signed in or registered. */
  start(userId: string, sessionId: string): Promise<IssuedRefreshToken> {
    return this.issue(userId, sessionId);
  }

  /** Exchanges a refresh token for a new access token and the next refresh token of its family. */
  async refresh(presented: string): Promise<RefreshedSession> {
    const now = new Date();
    const token = await this.find(presented);
    if (!token || token.revokedAt) throw new UnauthorizedError(SESSION_ENDED);
    if (token.rotatedAt) {
      await this.reuseDetected(token.familyId, token.userId, now);
      throw new UnauthorizedError(SESSION_ENDED);
    }
    if (token.expiresAt.getTime() <= now.getTime()) throw new UnauthorizedError(SESSION_ENDED);
    // Exactly one of two racing refreshes with the same token wins; the other is a reuse.
    if (!(await this.tokens.markRotated(token.id, now))) {
      await this.reuseDetected(token.familyId, token.userId, now);
      throw new UnauthorizedError(SESSION_ENDED);
    }
    const user = await this.users.findById(token.userId);
    if (!user) throw new UnauthorizedError('Your account no longer exists');
    const refresh = await this.issue(user.id, token.familyId);
    return { result: await this.auth.issue(user, token.familyId), refresh };
  }

  /** Sign-out: revokes the family of the presented token (nothing happens for an unknown one). */
  async end(presented: string | undefined): Promise<void> {
    if (!presented) return;
    const token = await this.find(presented);
    if (!token) return;
    await this.revoke(token.familyId, new Date());
    this.ended.emit('ended', token.familyId);
  }

  private async issue(userId: string, familyId: string): Promise<IssuedRefreshToken> {
    const now = new Date();
    const token = randomBytes(32).toString('base64url');
    const expiresAt = new Date(now.getTime() + this.config.auth.refreshTtlSeconds * 1000);
    await this.tokens.insert({
      id: newId(),
      userId,
      familyId,
      tokenHash: hashToken(token),
      createdAt: now,
      expiresAt,
      rotatedAt: null,
      revokedAt: null,
    });
    // Housekeeping now and then: expired tokens are useless, but a reuse must still be recognised
    // until then, so rows are kept to their expiry.
    if (Math.random() < 0.01) void this.tokens.deleteExpired(now).catch(() => undefined);
    return { token, expiresAt };
  }

  private find(presented: string) {
    if (typeof presented !== 'string' || !/^[A-Za-z0-9_-]{43}$/.test(presented)) return Promise.resolve(null);
    return this.tokens.findByHash(hashToken(presented));
  }

  /** Revokes a session's tokens, kept until its last access token has expired. */
  private revoke(familyId: string, now: Date): Promise<void> {
    return this.tokens.revokeFamily(familyId, now, new Date(now.getTime() + this.config.auth.jwtExpiresInSeconds * 1000));
  }

  private async reuseDetected(familyId: string, userId: string, now: Date): Promise<void> {
    this.logger.warn(`Refresh token reused for user ${userId}: revoking its session family ${familyId}`);
    await this.revoke(familyId, now);
    this.ended.emit('ended', familyId);
  }
}

function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}
