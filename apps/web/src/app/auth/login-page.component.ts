import { ChangeDetectionStrategy, Component, computed, inject, input } from '@angular/core';
import { RouterLink } from '@angular/router';
import { AuthCardComponent } from './auth-card.component';
import { AuthFormComponent } from './auth-form.component';
import { createAuthSubmission } from './auth-submission';
import { AuthService } from './auth.service';

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
        [pending]="submission.pending()"
        [error]="submission.error()"
        [disabledReason]="submission.countdown.message()"
        [initialEmail]="email()"
        (submitted)="submission.submit($event)"
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

  readonly submission = createAuthSubmission('login', this.returnUrl);

  private readonly auth = inject(AuthService);
  /** After a session ended: its email, so only the password is left to type. */
  readonly email = computed(() => (this.reason() === 'expired' ? this.auth.rememberedEmail() : null));
  readonly notice = computed(() => (this.reason() === 'expired' ? 'Your session has ended. Sign in again to continue.' : null));
  readonly linkParams = computed(() => (this.returnUrl() ? { returnUrl: this.returnUrl() } : {}));
}
