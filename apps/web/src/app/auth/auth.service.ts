import { computed, DestroyRef, inject, Injectable, signal } from '@angular/core';
import { takeUntilDestroyed } from '@angular/core/rxjs-interop';
import { Router } from '@angular/router';
import type { AuthResult, UserView } from '@app/shared';
import { catchError, defer, finalize, from, map, Observable, of, shareReplay } from 'rxjs';
import { describeApiError } from '../http/api-error';
import { backoffDelay } from '../http/backoff';
import { AuthApi, Credentials } from './auth-api.service';
import { safeReturnUrl } from './return-url';
import { Session, sessionFromAuthResult } from './session';
import { SessionPersistence } from './session-persistence';

/** Why a session ended; `expired` sends the user back where they were after signing in again. */
export type SignOutReason = 'signed-out' | 'expired';

/**
 * How a renewal went: a new session; refused by the server (401, or 404: it cannot renew), so
 * the session cannot go on; or not answered (offline, the api restarting), which says nothing.
 */
export type RenewalOutcome = 'renewed' | 'refused' | 'unreachable';

/** setTimeout fires at once for delays above 2^31-1 ms; longer waits are taken in steps. */
const MAX_TIMER_DELAY_MS = 2_147_483_647;
/** The access token is renewed this long before it expires (at most a fifth of its lifetime). */
export const REFRESH_LEAD_MS = 60_000;
/** After a renewal that could not reach the server, the next try comes after 2 s, 4 s … up to a minute. */
export function renewalRetryDelay(attempt: number): number {
  return backoffDelay(attempt, 2000, 60_000);
}
/** Tabs renew one at a time (Web Locks), so a rotating refresh token is never sent twice. */
const REFRESH_LOCK = 'thumbs-refresh';

/**
 * The signed-in user and their token, as signals. The session survives reloads (localStorage);
 * shortly before the access token expires it is renewed with the HttpOnly refresh cookie
 * (`POST /api/auth/refresh`, where the server has it), so an active user stays signed in. A token
 * found expired (after the computer slept, or on a reload) or refused by the server is renewed
 * first; when the server refuses the renewal, and on sign-out, the session is cleared and the user
 * is sent to /login (after an expiry with the email kept). A renewal that cannot reach the server
 * is tried again later: being offline for a while does not end a session.
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
  private refreshing: Observable<RenewalOutcome> | null = null;

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
    return this.renewal().pipe(map((outcome) => outcome === 'renewed'));
  }

  /** Like {@link refresh}, telling a refusal from a server that did not answer. */
  renewal(): Observable<RenewalOutcome> {
    if (!this.canRefresh()) return of('refused');
    this.refreshing ??= defer(() => from(withLock(() => this.renew()))).pipe(
      finalize(() => (this.refreshing = null)),
      shareReplay({ bufferSize: 1, refCount: false }),
    );
    return this.refreshing;
  }

  /**
   * The server refused the current token (the live connection says so): renew it, and end the
   * session only when the server refuses that too.
   */
  tokenRefused(): void {
    const session = this.session();
    if (session) this.renewSession(session, true);
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

  private async renew(): Promise<RenewalOutcome> {
    const before = this.session();
    const stored = this.persistence.read();
    if (stored && stored.token !== before?.token && stored.expiresAt > (before?.expiresAt ?? 0)) {
      this.adopt(stored);
      return 'renewed';
    }
    return new Promise<RenewalOutcome>((resolve) => {
      this.api
        .refresh()
        .pipe(
          map((result): RenewalOutcome => {
            this.refreshable = true;
            this.start(result);
            return 'renewed';
          }),
          catchError((error: unknown) => {
            const { status } = describeApiError(error);
            if (status === 404) this.refreshable = false;
            return of<RenewalOutcome>(status === 401 || status === 403 || status === 404 ? 'refused' : 'unreachable');
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
      this.renewSession(session, true);
      return;
    }
    const lead = Math.min(REFRESH_LEAD_MS, left / 5);
    const renewIn = this.canRefresh() ? left - lead : left;
    this.expiryTimer = setTimeout(
      () => {
        if (this.session() !== session) return;
        // Woken late (the computer slept past the expiry): renew all the same.
        if (Date.now() >= session.expiresAt) {
          this.renewSession(session, true);
          return;
        }
        if (Date.now() < session.expiresAt - lead || !this.canRefresh()) {
          this.scheduleRenewal();
          return;
        }
        this.renewSession(session, false);
      },
      Math.min(renewIn, MAX_TIMER_DELAY_MS),
    );
  }

  /**
   * Renews `session`. Refused: the session ends now (`endWhenRefused`) or when its token expires.
   * Unanswered: tried again with backoff until the server answers.
   */
  private renewSession(session: Session, endWhenRefused: boolean, attempt = 1): void {
    this.renewal().subscribe((outcome) => {
      // Renewed (the new session is adopted and scheduled), or replaced meanwhile.
      if (outcome === 'renewed' || this.session() !== session) return;
      if (outcome === 'refused') {
        if (endWhenRefused) this.signOut('expired');
        else this.waitForExpiry(session);
        return;
      }
      this.clearTimer();
      this.expiryTimer = setTimeout(() => {
        if (this.session() === session) this.renewSession(session, endWhenRefused, attempt + 1);
      }, renewalRetryDelay(attempt));
    });
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
