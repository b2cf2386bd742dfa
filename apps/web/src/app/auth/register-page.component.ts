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

/** /register: creates the account and signs in at once. */
@Component({
  selector: 'app-register-page',
  changeDetection: ChangeDetectionStrategy.OnPush,
  imports: [AuthCardComponent, AuthFormComponent, RouterLink],
  template: `
    <app-auth-card heading="Create an account" subheading="Then drop in images and videos and watch them turn into thumbnails.">
      <app-auth-form
        mode="register"
        [pending]="pending()"
        [error]="error()"
        [disabledReason]="countdown.message()"
        (submitted)="register($event)"
      />
      @if (emailTaken()) {
        <p class="taken" data-testid="email-taken">
          <a routerLink="/login" [queryParams]="linkParams()" data-testid="login-instead-link">Go to sign in</a>
        </p>
      }
      <p footer>
        Already have an account?
        <a routerLink="/login" [queryParams]="linkParams()" data-testid="login-link">Sign in</a>
      </p>
    </app-auth-card>
  `,
  styles: `
    .taken {
      margin: 8px 0 0;
    }
  `,
})
export class RegisterPageComponent {
  /** Query parameter, bound by the router. */
  readonly returnUrl = input<string>();

  private readonly auth = inject(AuthService);
  private readonly router = inject(Router);
  private readonly destroyRef = inject(DestroyRef);
  readonly countdown = createRetryCountdown();
  readonly pending = signal(false);
  readonly error = signal<string | null>(null);
  private readonly lastStatus = signal<number | null>(null);

  readonly emailTaken = computed(() => this.lastStatus() === 409);
  readonly linkParams = computed(() => (this.returnUrl() ? { returnUrl: this.returnUrl() } : {}));

  register(credentials: Credentials): void {
    this.pending.set(true);
    this.error.set(null);
    this.lastStatus.set(null);
    this.auth
      .register(credentials)
      .pipe(
        finalize(() => this.pending.set(false)),
        takeUntilDestroyed(this.destroyRef),
      )
      .subscribe({
        next: () => void this.router.navigateByUrl(safeReturnUrl(this.returnUrl())),
        error: (error: unknown) => {
          const problem = describeApiError(error);
          this.lastStatus.set(problem.status);
          this.error.set(problem.message);
          if (problem.status === 429 && problem.retryAfterSeconds) {
            this.countdown.start(problem.retryAfterSeconds, () => this.error.set(null));
          }
        },
      });
  }
}
