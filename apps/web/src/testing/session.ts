import type { UserView } from '@app/shared';
import type { Session } from '../app/auth/session';
import { SESSION_STORAGE_KEY } from '../app/auth/session-persistence';

export const TEST_USER: UserView = { id: 'u1', email: 'ada@example.com', createdAt: '2025-01-01T00:00:00.000Z' };

/** A session good for another hour in localStorage, as an earlier sign-in leaves it. */
export function storeSession(token = 't'): void {
  const session: Session = { token, expiresAt: Date.now() + 3_600_000, user: TEST_USER };
  localStorage.setItem(SESSION_STORAGE_KEY, JSON.stringify(session));
}
