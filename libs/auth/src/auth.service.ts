import { Injectable } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import { AppConfig, ConflictError, newId, UnauthorizedError } from '@app/core';
import { PASSWORD_MAX_BYTES, type ApiKeyScope, type AuthResult, type UserView } from '@app/shared';
import { LoginThrottle } from './login-throttle';
import { PasswordHasher } from './password-hasher';
import { normaliseEmail, toUserView, User, UserRole } from './user';
import { RefreshTokensRepository } from './refresh-tokens.repository';
import { EmailTakenError, UsersRepository } from './users.repository';

/** The authenticated caller, as carried by a verified access token. */
export interface AuthUser {
  id: string;
  email: string;
  /** Read from the database on every request, so a grant or revoke takes effect at once. Absent: `user`. */
  role?: UserRole;
  /** Set when the caller used an API key (not a password sign-in): which key, and what it may do. */
  apiKey?: { id: string; scopes: readonly ApiKeyScope[] };
  /** The sign-in (refresh token family) the access token belongs to: it stops working when that ends. */
  sessionId?: string;
}

interface TokenPayload {
  sub: string;
  email: string;
  /** The session (refresh token family) of the sign-in that issued it. */
  sid?: string;
}

/** The one message for every failed sign-in, so it never tells whether an email is registered. */
export const INVALID_CREDENTIALS = 'Invalid email or password';

@Injectable()
export class AuthService {
  constructor(
    private readonly users: UsersRepository,
    private readonly hasher: PasswordHasher,
    private readonly jwt: JwtService,
    private readonly throttle: LoginThrottle,
    private readonly config: AppConfig,
    private readonly sessions: RefreshTokensRepository,
  ) {}

  /** Registers and signs in; the access token belongs to session `sessionId` (a new refresh token family). */
  async register(email: string, password: string, sessionId?: string): Promise<AuthResult> {
    const now = new Date();
    const user: User = {
      id: newId(),
      email: normaliseEmail(email),
      passwordHash: await this.hasher.hash(password),
      // Registering grants nothing: operators are made on the server (`npm run admin -- grant`).
      role: 'user',
      createdAt: now,
      updatedAt: now,
    };
    try {
      await this.users.create(user);
    } catch (error) {
      if (error instanceof EmailTakenError) throw new ConflictError('This email is already registered. Sign in instead.');
      throw error;
    }
    return this.issue(user, sessionId);
  }

  /** Signs in; the access token belongs to session `sessionId` (a new refresh token family). */
  async login(email: string, password: string, clientAddress: string, sessionId?: string): Promise<AuthResult> {
    const normalised = normaliseEmail(email);
    const attempt = await this.throttle.begin(normalised, clientAddress);
    let user: User | null;
    let valid: boolean;
    try {
      user = await this.users.findByEmail(normalised);
      // bcrypt reads 72 bytes only: a longer password could never have been registered, and would
      // otherwise sign in as its first 72 bytes. Refused like any wrong password, in the same time.
      const registrable = Buffer.byteLength(password, 'utf8') <= PASSWORD_MAX_BYTES;
      valid = user && registrable ? await this.hasher.verify(password, user.passwordHash) : await this.hasher.verifyAgainstDecoy(password);
    } catch (error) {
      await attempt.withdrawn();
      throw error;
    }
    // A failure is counted already (LoginThrottle.begin).
    if (!user || !valid) throw new UnauthorizedError(INVALID_CREDENTIALS);
    await attempt.succeeded();
    return this.issue(user, sessionId);
  }

  async me(userId: string): Promise<UserView> {
    const user = await this.users.findById(userId);
    if (!user) throw new UnauthorizedError('Your account no longer exists');
    return toUserView(user);
  }

  /**
   * Verifies an access token and that its user still exists. Used by the HTTP guard and the
   * socket handshake; resolves null for anything invalid or expired.
   */
  async verifyToken(token: string): Promise<AuthUser | null> {
    let payload: TokenPayload;
    try {
      payload = await this.jwt.verifyAsync<TokenPayload>(token, { algorithms: ['HS256'] });
    } catch {
      return null;
    }
    return this.userOf(payload);
  }

  /** Seconds until a verified token expires, 0 once it has (for socket and cookie lifetimes). */
  expiresInSeconds(token: string): number {
    const decoded = this.jwt.decode<{ exp?: number } | null>(token);
    return decoded?.exp ? Math.max(0, decoded.exp - Math.floor(Date.now() / 1000)) : 0;
  }

  /**
   * The caller of a verified token: its user as the database has it now, unless the user is gone or
   * the token's session has ended (signed out, or revoked after a refresh token reuse).
   */
  async userOf(payload: TokenPayload): Promise<AuthUser | null> {
    if (typeof payload?.sub !== 'string') return null;
    const sessionId = typeof payload.sid === 'string' ? payload.sid : undefined;
    const [user, ended] = await Promise.all([
      this.users.findById(payload.sub),
      sessionId ? this.sessions.isFamilyRevoked(sessionId) : Promise.resolve(false),
    ]);
    if (!user || ended) return null;
    return { id: user.id, email: user.email, role: user.role, ...(sessionId ? { sessionId } : {}) };
  }

  /** Whether the session (refresh token family) `sessionId` has ended. */
  sessionEnded(sessionId: string): Promise<boolean> {
    return this.sessions.isFamilyRevoked(sessionId);
  }

  /**
   * A new access token (and the login shape) for a user: sign-in, registration and session refresh,
   * bound to the session `sessionId` when there is one.
   */
  async issue(user: User, sessionId?: string): Promise<AuthResult> {
    const expiresIn = this.config.auth.jwtExpiresInSeconds;
    const payload: TokenPayload = { sub: user.id, email: user.email, ...(sessionId ? { sid: sessionId } : {}) };
    const accessToken = await this.jwt.signAsync(payload, { expiresIn });
    return { accessToken, expiresIn, user: toUserView(user) };
  }
}
