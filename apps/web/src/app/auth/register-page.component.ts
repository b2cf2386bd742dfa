import { ChangeDetectionStrategy, Component, computed, input } from '@angular/core';
import { RouterLink } from '@angular/router';
import { AuthCardComponent } from './auth-card.component';
import { AuthFormComponent } from './auth-form.component';
import { createAuthSubmission } from './auth-submission';

/** /register: creates the account and signs in at once. */
@Component({
  selector: 'app-register-page',
  changeDetection: ChangeDetectionStrategy.OnPush,
  imports: [AuthCardComponent, AuthFormComponent, RouterLink],
  template: `
    <app-auth-card heading="Create an account" subheading="Then drop in images and videos and watch them turn into thumbnails.">
      <app-auth-form
        mode="register"
        [pending]="submission.pending()"
        [error]="submission.error()"
        [disabledReason]="submission.countdown.message()"
        (submitted)="submission.submit($event)"
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

  readonly submission = createAuthSubmission('register', this.returnUrl);

  readonly emailTaken = computed(() => this.submission.failedStatus() === 409);
  readonly linkParams = computed(() => (this.returnUrl() ? { returnUrl: this.returnUrl() } : {}));
}
