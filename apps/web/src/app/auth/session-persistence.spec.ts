import { TestBed } from '@angular/core/testing';
import type { AuthResult } from '@app/shared';
import { sessionFromAuthResult } from './session';
import { SESSION_STORAGE_KEY, SessionPersistence } from './session-persistence';

const result: AuthResult = {
  accessToken: 'token-1',
  expiresIn: 3600,
  user: { id: 'u1', email: 'ada@example.com', createdAt: '2025-01-01T00:00:00.000Z' },
};

describe('SessionPersistence', () => {
  let persistence: SessionPersistence;
  const now = Date.UTC(2025, 0, 1, 12);

  beforeEach(() => {
    localStorage.clear();
    persistence = TestBed.inject(SessionPersistence);
  });

  it('reads back what it wrote until the token expires', () => {
    const session = sessionFromAuthResult(result, now);
    persistence.write(session);
    expect(persistence.read(now + 3_599_000)).toEqual(session);
    expect(persistence.read(now + 3_600_000)).toBeNull();
    expect(localStorage.getItem(SESSION_STORAGE_KEY)).toBeNull();
  });

  it('treats malformed or foreign data as signed out and removes it', () => {
    for (const raw of ['not json', '{"token":""}', JSON.stringify({ token: 't', expiresAt: 'later', user: {} }), '[]']) {
      localStorage.setItem(SESSION_STORAGE_KEY, raw);
      expect(persistence.read(now)).toBeNull();
      expect(localStorage.getItem(SESSION_STORAGE_KEY)).toBeNull();
    }
  });

  it('reports sessions changed by another tab', () => {
    const seen: unknown[] = [];
    const subscription = persistence.changes().subscribe((session) => seen.push(session));
    const session = sessionFromAuthResult(result, Date.now());
    localStorage.setItem(SESSION_STORAGE_KEY, JSON.stringify(session));
    window.dispatchEvent(new StorageEvent('storage', { key: SESSION_STORAGE_KEY }));
    localStorage.removeItem(SESSION_STORAGE_KEY);
    window.dispatchEvent(new StorageEvent('storage', { key: SESSION_STORAGE_KEY }));
    window.dispatchEvent(new StorageEvent('storage', { key: 'something-else' }));
    subscription.unsubscribe();
    expect(seen).toEqual([session, null]);
  });
});
