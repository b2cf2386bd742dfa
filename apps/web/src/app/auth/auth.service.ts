import { computed, DestroyRef, inject, Injectable, signal } from '@angular/core';
import { takeUntilDestroyed } from '@angular/core/rxjs-interop';
import { Router } from '@angular/router';
import type { AuthResult, UserView } from '@app/shared';
import { map, Observable } from 'rxjs';
import { AuthApi, Credentials } from './auth-api.service';
import { safeReturnUrl } from './return-url';
import { Session, sessionFromAuthResult } from './session';
import { SessionPersistence } from './session-persistence';

/** Why a session ended; `expired` sends the user back where they were after signing in again. */
export type SignOutReason = 'signed-out' | 'expired';

/** setTimeout fires at once for delays above 2^31-1 ms; longer waits are taken in steps. */
const MAX_TIMER_DELAY_MS = 2_147_483_647;

/**
 * The signed-in user and their token, as signals. The session survives reloads (localStorage)
 * until the token expires; at expiry, on any 401 and on sign-out it is cleared and the user is
 * sent to /login.
 */
@Injectable({ providedIn: 'root' })
export class AuthService {
  private readonly api = inject(AuthApi);
  private readonly persistence = inject(SessionPersistence);
  private readonly router = inject(Router);
  private readonly session = signal<Session | null>(this.persistence.read());
  private expiryTimer: ReturnType<typeof setTimeout> | null = null;

  readonly user = computed<UserView | null>(() => this.session()?.user ?? null);
  readonly token = computed<string | null>(() => this.session()?.token ?? null);
  readonly isSignedIn = computed(() => this.session() !== null);

  constructor() {
    this.scheduleExpiry();
    // Another tab signed in or out: follow it, so tabs never act as different users.
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

  /** Ends the session and goes to /login; after an expiry, with the page to come back to. */
  signOut(reason: SignOutReason = 'signed-out'): void {
    const returnUrl = reason === 'expired' ? this.router.url : null;
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

  private start(result: AuthResult): UserView {
    const session = sessionFromAuthResult(result, Date.now());
    this.persistence.write(session);
    this.adopt(session);
    return session.user;
  }

  private adopt(session: Session | null): void {
    this.session.set(session);
    this.scheduleExpiry();
  }

  private scheduleExpiry(): void {
    this.clearTimer();
    const session = this.session();
    if (!session) return;
    const delay = session.expiresAt - Date.now();
    if (delay <= 0) {
      this.signOut('expired');
      return;
    }
    this.expiryTimer = setTimeout(
      () => {
        if (this.session() !== session) return;
        if (Date.now() >= session.expiresAt) this.signOut('expired');
        else this.scheduleExpiry();
      },
      Math.min(delay, MAX_TIMER_DELAY_MS),
    );
  }

  private clearTimer(): void {
    if (this.expiryTimer !== null) clearTimeout(this.expiryTimer);
    this.expiryTimer = null;
  }
}
