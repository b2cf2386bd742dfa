import { ChangeDetectionStrategy, Component, computed, inject, input, OnInit, output, signal } from '@angular/core';
import { toSignal } from '@angular/core/rxjs-interop';
import { AbstractControl, NonNullableFormBuilder, ReactiveFormsModule, Validators } from '@angular/forms';
import { MatButtonModule } from '@angular/material/button';
import { MatFormFieldModule } from '@angular/material/form-field';
import { MatIconModule } from '@angular/material/icon';
import { MatInputModule } from '@angular/material/input';
import { MatProgressSpinner } from '@angular/material/progress-spinner';
import { PASSWORD_MAX_BYTES, PASSWORD_MIN_LENGTH } from '@app/shared';
import type { Credentials } from './auth-api.service';
import { maxUtf8Bytes } from './utf8-bytes.validator';

export type AuthFormMode = 'login' | 'register';

/** The longest address the API accepts. */
const EMAIL_MAX_LENGTH = 254;

/**
 * Email and password with the API's rules, for both signing in and registering. Registration
 * enforces the password rules (8 characters to 72 UTF-8 bytes); signing in only needs a password,
 * whatever the rules were when the account was made. Errors from the server come in via `error`.
 */
@Component({
  selector: 'app-auth-form',
  changeDetection: ChangeDetectionStrategy.OnPush,
  imports: [ReactiveFormsModule, MatFormFieldModule, MatInputModule, MatButtonModule, MatIconModule, MatProgressSpinner],
  templateUrl: './auth-form.component.html',
  styleUrl: './auth-form.component.scss',
})
export class AuthFormComponent implements OnInit {
  readonly mode = input.required<AuthFormMode>();
  readonly pending = input(false);
  /** The server's answer to the last attempt, shown above the button. */
  readonly error = input<string | null>(null);
  /** While set (e.g. during a 429 wait) the form cannot be sent. */
  readonly disabledReason = input<string | null>(null);
  /** Filled in at the start (the email of a session that ended). */
  readonly initialEmail = input<string | null>(null);
  readonly submitted = output<Credentials>();

  readonly form = inject(NonNullableFormBuilder).group({
    email: ['', [Validators.required, Validators.email, Validators.maxLength(EMAIL_MAX_LENGTH)]],
    password: ['', [Validators.required]],
  });

  readonly passwordVisible = signal(false);
  private readonly formEvents = toSignal(this.form.events);

  readonly submitLabel = computed(() => (this.mode() === 'login' ? 'Sign in' : 'Create account'));
  readonly testIds = computed(() => {
    const mode = this.mode();
    return { email: `${mode}-email`, password: `${mode}-password`, submit: `${mode}-submit`, error: `${mode}-error` };
  });
  readonly passwordAutocomplete = computed(() => (this.mode() === 'login' ? 'current-password' : 'new-password'));
  readonly passwordHint = computed(() =>
    this.mode() === 'register' ? `At least ${PASSWORD_MIN_LENGTH} characters, at most ${PASSWORD_MAX_BYTES} bytes.` : null,
  );
  readonly passwordToggleLabel = computed(() => (this.passwordVisible() ? 'Hide password' : 'Show password'));
  readonly passwordInputType = computed(() => (this.passwordVisible() ? 'text' : 'password'));
  readonly passwordToggleIcon = computed(() => (this.passwordVisible() ? 'visibility_off' : 'visibility'));
  readonly submitDisabled = computed(() => this.pending() || this.disabledReason() !== null);
  readonly emailError = computed(() => {
    this.formEvents();
    return emailMessage(this.form.controls.email);
  });
  readonly passwordError = computed(() => {
    this.formEvents();
    return passwordMessage(this.form.controls.password);
  });

  ngOnInit(): void {
    const email = this.initialEmail();
    if (email) this.form.controls.email.setValue(email);
    if (this.mode() === 'register') {
      this.form.controls.password.addValidators([Validators.minLength(PASSWORD_MIN_LENGTH), maxUtf8Bytes(PASSWORD_MAX_BYTES)]);
      this.form.controls.password.updateValueAndValidity({ emitEvent: false });
    }
  }

  togglePasswordVisibility(): void {
    this.passwordVisible.update((visible) => !visible);
  }

  submit(): void {
    if (this.submitDisabled()) return;
    if (this.form.invalid) {
      this.form.markAllAsTouched();
      return;
    }
    const { email, password } = this.form.getRawValue();
    this.submitted.emit({ email: email.trim(), password });
  }
}

function emailMessage(control: AbstractControl<string>): string | null {
  if (!control.touched || control.valid) return null;
  if (control.hasError('required')) return 'Enter your email address.';
  if (control.hasError('maxlength')) return `Use at most ${EMAIL_MAX_LENGTH} characters.`;
  return 'Enter a valid email address, like name@example.com.';
}

function passwordMessage(control: AbstractControl<string>): string | null {
  if (!control.touched || control.valid) return null;
  if (control.hasError('required')) return 'Enter your password.';
  if (control.hasError('minlength')) return `Use at least ${PASSWORD_MIN_LENGTH} characters.`;
  if (control.hasError('maxBytes')) {
    return `Use at most ${PASSWORD_MAX_BYTES} bytes: this one has ${(control.getError('maxBytes') as { actual: number }).actual} (accented letters and emoji take 2–4 each).`;
  }
  return 'This password cannot be used.';
}
