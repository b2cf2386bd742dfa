import { ChangeDetectionStrategy, Component, computed, DestroyRef, inject, input, signal } from '@angular/core';
import { takeUntilDestroyed } from '@angular/core/rxjs-interop';
import { Router, RouterLink } from '@angular/router';
import { finalize } from 'rxjs';
import { describeApiError } from '../http/api-error';
import type { Credentials } from './auth-api.service';
import { AuthCardComponent } from './auth-card.component';
import { AuthFormComponent } from './auth-form.component';
import { AuthService } from './auth.service';
import { createRetryCountdown } from './retry-countdown';
import { safeReturnUrl } from './return-url';

/** /login: email and password; on success back to where the user came from (or the dashboard). */
@Component({
  selector: 'app-login-page',
  changeDetection: ChangeDetectionStrategy.OnPush,
  imports: [AuthCardComponent, AuthFormComponent, RouterLink],
  template: `
    <app-auth-card heading="Sign in" subheading="Your images and videos, turned into thumbnails.">
      @if (notice(); as text) {
        <p class="notice" role="status" data-testid="login-notice">{{ text }}</p>
      }
      <app-auth-form
        mode="login"
        [pending]="pending()"
        [error]="error()"
        [disabledReason]="countdown.message()"
        (submitted)="signIn($event)"
      />
      <p footer>
        New here?
        <a routerLink="/register" [queryParams]="linkParams()" data-testid="register-link">Create an account</a>
      </p>
    </app-auth-card>
  `,
  styles: `
    .notice {
      margin: 0 0 16px;
      padding: 12px 16px;
      border-radius: var(--mat-sys-corner-small);
      background: var(--mat-sys-tertiary-container);
      color: var(--mat-sys-on-tertiary-container);
    }
  `,
})
export class LoginPageComponent {
  /** Query parameters, bound by the router. */
  readonly returnUrl = input<string>();
  readonly reason = input<string>();

  private readonly auth = inject(AuthService);
  private readonly router = inject(Router);
  private readonly destroyRef = inject(DestroyRef);
  readonly countdown = createRetryCountdown();
  readonly pending = signal(false);
  readonly error = signal<string | null>(null);

  readonly notice = computed(() => (this.reason() === 'expired' ? 'Your session has ended. Sign in again to continue.' : null));
  readonly linkParams = computed(() => (this.returnUrl() ? { returnUrl: this.returnUrl() } : {}));

  signIn(credentials: Credentials): void {
    this.pending.set(true);
    this.error.set(null);
    this.auth
      .login(credentials)
      .pipe(
        finalize(() => this.pending.set(false)),
        takeUntilDestroyed(this.destroyRef),
      )
      .subscribe({
        next: () => void this.router.navigateByUrl(safeReturnUrl(this.returnUrl())),
        error: (error: unknown) => {
          const problem = describeApiError(error);
          this.error.set(problem.message);
          if (problem.status === 429 && problem.retryAfterSeconds) {
            this.countdown.start(problem.retryAfterSeconds, () => this.error.set(null));
          }
        },
      });
  }
}
