import { computed, DestroyRef, inject, Injectable, signal } from '@angular/core';
import { takeUntilDestroyed } from '@angular/core/rxjs-interop';
import { Router } from '@angular/router';
import type { AuthResult, UserView } from '@app/shared';
import { catchError, defer, finalize, from, map, Observable, of, shareReplay } from 'rxjs';
import { describeApiError } from '../http/api-error';
import { AuthApi, Credentials } from './auth-api.service';
import { safeReturnUrl } from './return-url';
import { Session, sessionFromAuthResult } from './session';
import { SessionPersistence } from './session-persistence';

/** Why a session ended; `expired` sends the user back where they were after signing in again. */
export type SignOutReason = 'signed-out' | 'expired';

/** setTimeout fires at once for delays above 2^31-1 ms; longer waits are taken in steps. */
const MAX_TIMER_DELAY_MS = 2_147_483_647;
/** The access token is renewed this long before it expires (at most a fifth of its lifetime). */
export const REFRESH_LEAD_MS = 60_000;
/** Tabs renew one at a time (Web Locks), so a rotating refresh token is never sent twice. */
const REFRESH_LOCK = 'thumbs-refresh';

/**
 * The signed-in user and their token, as signals. The session survives reloads (localStorage);
 * shortly before the access token expires it is renewed with the HttpOnly refresh cookie
 * (`POST /api/auth/refresh`, where the server has it), so an active user stays signed in. When it
 * cannot be renewed, at expiry, on a 401 that a renewal does not cure and on sign-out it is cleared
 * and the user is sent to /login (after an expiry with the email kept).
 */
@Injectable({ providedIn: 'root' })
export class AuthService {
  private readonly api = inject(AuthApi);
  private readonly persistence = inject(SessionPersistence);
  private readonly router = inject(Router);
  private readonly session = signal<Session | null>(this.persistence.read());
  private expiryTimer: ReturnType<typeof setTimeout> | null = null;
  /** The server renews sessions (null: not known yet; false: it answered 404). */
  private refreshable: boolean | null = null;
  private refreshing: Observable<boolean> | null = null;

  readonly user = computed<UserView | null>(() => this.session()?.user ?? null);
  readonly token = computed<string | null>(() => this.session()?.token ?? null);
  readonly isSignedIn = computed(() => this.session() !== null);

  constructor() {
    this.scheduleRenewal();
    // Another tab signed in, out, or renewed: follow it, so tabs never act as different users.
    this.persistence
      .changes()
      .pipe(takeUntilDestroyed())
      .subscribe((session) => {
        const wasSignedIn = this.isSignedIn();
        this.adopt(session);
        if (wasSignedIn && !session) void this.router.navigate(['/login']);
      });
    inject(DestroyRef).onDestroy(() => this.clearTimer());
  }

  login(credentials: Credentials): Observable<UserView> {
    return this.api.login(credentials).pipe(map((result) => this.start(result)));
  }

  register(credentials: Credentials): Observable<UserView> {
    return this.api.register(credentials).pipe(map((result) => this.start(result)));
  }

  /** The server may renew sessions (it has not said it cannot). */
  canRefresh(): boolean {
    return this.refreshable !== false;
  }

  /**
   * Renews the access token with the refresh cookie; true when a session is (still) on. One
   * renewal at a time, shared by every caller; with other tabs, one at a time too, and a tab that
   * finds a fresher session stored by another adopts it instead of renewing again.
   */
  refresh(): Observable<boolean> {
    if (!this.canRefresh()) return of(false);
    this.refreshing ??= defer(() => from(withLock(() => this.renew()))).pipe(
      finalize(() => (this.refreshing = null)),
      shareReplay({ bufferSize: 1, refCount: false }),
    );
    return this.refreshing;
  }

  /** The email of the last session that expired (to fill in on the sign-in page). */
  rememberedEmail(): string | null {
    return this.persistence.rememberedEmail();
  }

  /** Ends the session and goes to /login; after an expiry, with the page to come back to. */
  signOut(reason: SignOutReason = 'signed-out'): void {
    const returnUrl = reason === 'expired' ? this.router.url : null;
    if (reason === 'signed-out') {
      if (this.isSignedIn() && this.canRefresh()) this.api.logout().subscribe({ error: () => undefined });
      this.persistence.forgetEmail();
    }
    this.persistence.clear();
    this.adopt(null);
    const queryParams: Record<string, string> = {};
    if (reason === 'expired') {
      queryParams['reason'] = 'expired';
      const target = safeReturnUrl(returnUrl);
      if (target === returnUrl) queryParams['returnUrl'] = target;
    }
    void this.router.navigate(['/login'], { queryParams });
  }

  private async renew(): Promise<boolean> {
    const before = this.session();
    const stored = this.persistence.read();
    if (stored && stored.token !== before?.token && stored.expiresAt > (before?.expiresAt ?? 0)) {
      this.adopt(stored);
      return true;
    }
    return new Promise<boolean>((resolve) => {
      this.api
        .refresh()
        .pipe(
          map((result) => {
            this.refreshable = true;
            this.start(result);
            return true;
          }),
          catchError((error: unknown) => {
            if (describeApiError(error).status === 404) this.refreshable = false;
            return of(false);
          }),
        )
        .subscribe(resolve);
    });
  }

  private start(result: AuthResult): UserView {
    const session = sessionFromAuthResult(result, Date.now());
    this.persistence.write(session);
    this.adopt(session);
    return session.user;
  }

  private adopt(session: Session | null): void {
    this.session.set(session);
    this.scheduleRenewal();
  }

  /** Renews a little before the token expires; signs out at expiry if that did not work. */
  private scheduleRenewal(): void {
    this.clearTimer();
    const session = this.session();
    if (!session) return;
    const left = session.expiresAt - Date.now();
    if (left <= 0) {
      this.signOut('expired');
      return;
    }
    const lead = Math.min(REFRESH_LEAD_MS, left / 5);
    const renewIn = this.canRefresh() ? left - lead : left;
    this.expiryTimer = setTimeout(
      () => {
        if (this.session() !== session) return;
        if (Date.now() >= session.expiresAt) {
          this.signOut('expired');
          return;
        }
        if (Date.now() < session.expiresAt - lead || !this.canRefresh()) {
          this.scheduleRenewal();
          return;
        }
        this.refresh().subscribe((renewed) => {
          // Not renewed: the session lasts until its token expires.
          if (!renewed && this.session() === session) this.waitForExpiry(session);
        });
      },
      Math.min(renewIn, MAX_TIMER_DELAY_MS),
    );
  }

  private waitForExpiry(session: Session): void {
    this.clearTimer();
    this.expiryTimer = setTimeout(
      () => {
        if (this.session() !== session) return;
        if (Date.now() >= session.expiresAt) this.signOut('expired');
        else this.waitForExpiry(session);
      },
      Math.min(Math.max(0, session.expiresAt - Date.now()), MAX_TIMER_DELAY_MS),
    );
  }

  private clearTimer(): void {
    if (this.expiryTimer !== null) clearTimeout(this.expiryTimer);
    this.expiryTimer = null;
  }
}

/** Runs `task` holding the app's refresh lock where the browser has Web Locks (all current ones do). */
function withLock<T>(task: () => Promise<T>): Promise<T> {
  const locks = typeof navigator === 'undefined' ? undefined : (navigator as Navigator & { locks?: LockManager }).locks;
  // request() resolves with what the task resolves with (its typing nests the promise).
  return locks ? (locks.request(REFRESH_LOCK, task) as Promise<unknown> as Promise<T>) : task();
}
