import type { AuthResult, UserView } from '@app/shared';

/** A signed-in user with the token the API gave them and when it stops working. */
export interface Session {
  readonly token: string;
  /** Milliseconds since the epoch. */
  readonly expiresAt: number;
  readonly user: UserView;
}

export function sessionFromAuthResult(result: AuthResult, now: number): Session {
  return { token: result.accessToken, expiresAt: now + result.expiresIn * 1000, user: result.user };
}

export function isSessionExpired(session: Session, now: number): boolean {
  return session.expiresAt <= now;
}

/** Guards what comes back from localStorage, which anything may have written. */
export function isSession(value: unknown): value is Session {
  if (typeof value !== 'object' || value === null) return false;
  const { token, expiresAt, user } = value as Record<string, unknown>;
  if (typeof token !== 'string' || token === '' || typeof expiresAt !== 'number' || !Number.isFinite(expiresAt)) return false;
  if (typeof user !== 'object' || user === null) return false;
  const { id, email, createdAt } = user as Record<string, unknown>;
  return typeof id === 'string' && typeof email === 'string' && typeof createdAt === 'string';
}
