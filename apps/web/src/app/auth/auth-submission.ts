import { DestroyRef, inject, Signal, signal } from '@angular/core';
import { takeUntilDestroyed } from '@angular/core/rxjs-interop';
import { Router } from '@angular/router';
import { finalize } from 'rxjs';
import { describeApiError } from '../http/api-error';
import type { Credentials } from './auth-api.service';
import type { AuthFormMode } from './auth-form.component';
import { AuthService } from './auth.service';
import { createRetryCountdown, RetryCountdown } from './retry-countdown';
import { safeReturnUrl } from './return-url';

export interface AuthSubmission {
  readonly pending: Signal<boolean>;
  /** The API's answer to the last attempt; cleared by the next one and when a 429's wait is over. */
  readonly error: Signal<string | null>;
  /** The HTTP status of the last failed attempt; null before any and while one is under way. */
  readonly failedStatus: Signal<number | null>;
  readonly countdown: RetryCountdown;
  /** Signs in or registers with `credentials`; on success goes to the return URL (or the dashboard). */
  submit(credentials: Credentials): void;
}

/**
 * The submit flow the sign-in and registration pages share: one attempt at a time, the API's
 * error as a sentence, a 429's Retry-After as a countdown, and on success back to `returnUrl`
 * (read when the attempt succeeds). Call in an injection context; an attempt under way is
 * dropped with the component.
 */
export function createAuthSubmission(mode: AuthFormMode, returnUrl: () => string | undefined): AuthSubmission {
  const auth = inject(AuthService);
  const router = inject(Router);
  const destroyRef = inject(DestroyRef);
  const countdown = createRetryCountdown();
  const pending = signal(false);
  const error = signal<string | null>(null);
  const failedStatus = signal<number | null>(null);

  function submit(credentials: Credentials): void {
    pending.set(true);
    error.set(null);
    failedStatus.set(null);
    auth[mode](credentials)
      .pipe(
        finalize(() => pending.set(false)),
        takeUntilDestroyed(destroyRef),
      )
      .subscribe({
        next: () => void router.navigateByUrl(safeReturnUrl(returnUrl())),
        error: (caught: unknown) => {
          const problem = describeApiError(caught);
          failedStatus.set(problem.status);
          error.set(problem.message);
          if (problem.status === 429 && problem.retryAfterSeconds) {
            countdown.start(problem.retryAfterSeconds, () => error.set(null));
          }
        },
      });
  }

  return { pending: pending.asReadonly(), error: error.asReadonly(), failedStatus: failedStatus.asReadonly(), countdown, submit };
}
