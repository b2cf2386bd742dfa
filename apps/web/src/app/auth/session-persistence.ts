import { DOCUMENT, inject, Injectable } from '@angular/core';
import { EMPTY, filter, fromEvent, map, Observable } from 'rxjs';
import { isSession, isSessionExpired, Session } from './session';

export const SESSION_STORAGE_KEY = 'thumbs.session';
/** The email of the last session, kept after it expires so signing in again is one field shorter. */
export const EMAIL_STORAGE_KEY = 'thumbs.email';

/**
 * Keeps the session in localStorage so a reload stays signed in until the token expires.
 * Storage may be unavailable (privacy modes) or hold anything; both read as "signed out".
 */
@Injectable({ providedIn: 'root' })
export class SessionPersistence {
  private readonly window = inject(DOCUMENT).defaultView;

  /** The stored session, or null when there is none, it is malformed or it has expired. */
  read(now = Date.now()): Session | null {
    const storage = this.storage();
    const raw = storage?.getItem(SESSION_STORAGE_KEY);
    if (!raw) return null;
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch {
      value = null;
    }
    if (!isSession(value) || isSessionExpired(value, now)) {
      this.clear();
      return null;
    }
    return value;
  }

  write(session: Session): void {
    try {
      this.storage()?.setItem(SESSION_STORAGE_KEY, JSON.stringify(session));
      this.storage()?.setItem(EMAIL_STORAGE_KEY, session.user.email);
    } catch {
      // Quota or privacy mode: the session still lives in memory for this tab.
    }
  }

  /** The email of the last session that ended without a sign-out (null after one). */
  rememberedEmail(): string | null {
    try {
      return this.storage()?.getItem(EMAIL_STORAGE_KEY) || null;
    } catch {
      return null;
    }
  }

  forgetEmail(): void {
    try {
      this.storage()?.removeItem(EMAIL_STORAGE_KEY);
    } catch {
      // Nothing stored.
    }
  }

  clear(): void {
    try {
      this.storage()?.removeItem(SESSION_STORAGE_KEY);
    } catch {
      // Nothing stored, nothing to clear.
    }
  }

  /** The session as other tabs change it (sign in, sign out). */
  changes(): Observable<Session | null> {
    if (!this.window) return EMPTY;
    return fromEvent<StorageEvent>(this.window, 'storage').pipe(
      filter((event) => event.key === SESSION_STORAGE_KEY || event.key === null),
      map(() => this.read()),
    );
  }

  private storage(): Storage | null {
    try {
      return this.window?.localStorage ?? null;
    } catch {
      return null;
    }
  }
}
