/**
 * One refresh token of a session. Tokens of one sign-in form a family (a chain: each refresh
 * replaces the presented token with a new one); only the SHA-256 of the token is stored.
 */
export interface RefreshToken {
  id: string;
  userId: string;
  familyId: string;
  tokenHash: string;
  createdAt: Date;
  expiresAt: Date;
  /** Set when the token was exchanged for its successor; presenting it again is a reuse. */
  rotatedAt: Date | null;
  /** Set when the token was revoked (sign-out, or its family revoked after a reuse). */
  revokedAt: Date | null;
}

/** Persistence port for refresh tokens; adapters: SQLite and MongoDB. */
export abstract class RefreshTokensRepository {
  abstract insert(token: RefreshToken): Promise<void>;
  abstract findByHash(tokenHash: string): Promise<RefreshToken | null>;
  /**
   * Marks a live token rotated, atomically: resolves true for exactly one caller, false when it was
   * already rotated or revoked (two refreshes racing with one token: the second one is a reuse).
   */
  abstract markRotated(id: string, at: Date): Promise<boolean>;
  /**
   * Revokes every token of a family that is not revoked yet, and keeps those rows at least until
   * `keepUntil` (the last access token of the session expires then; it works only while they are
   * there to say the session ended, whatever REFRESH_TTL is).
   */
  abstract revokeFamily(familyId: string, at: Date, keepUntil: Date): Promise<void>;
  /** Whether the family was revoked (sign-out, or a reuse): its access tokens stop working too. */
  abstract isFamilyRevoked(familyId: string): Promise<boolean>;
  /** Deletes tokens that expired before `before` (housekeeping). */
  abstract deleteExpired(before: Date): Promise<number>;
}
