import { ComponentFixture, TestBed } from '@angular/core/testing';
import { byTestId, queryTestId, text, typeInto } from '../../testing/dom';
import { provideAppIcons } from '../ui/icons';
import type { Credentials } from './auth-api.service';
import { AuthFormComponent, AuthFormMode } from './auth-form.component';

describe('AuthFormComponent', () => {
  let fixture: ComponentFixture<AuthFormComponent>;
  let submitted: Credentials[];

  async function render(mode: AuthFormMode): Promise<void> {
    TestBed.configureTestingModule({ providers: [provideAppIcons()] });
    fixture = TestBed.createComponent(AuthFormComponent);
    fixture.componentRef.setInput('mode', mode);
    submitted = [];
    fixture.componentInstance.submitted.subscribe((credentials) => submitted.push(credentials));
    await fixture.whenStable();
  }

  const field = (name: 'email' | 'password', mode: AuthFormMode) => byTestId<HTMLInputElement>(fixture, `${mode}-${name}`);
  const errors = () => Array.from((fixture.nativeElement as HTMLElement).querySelectorAll('mat-error')).map(text);

  async function submit(mode: AuthFormMode): Promise<void> {
    byTestId<HTMLButtonElement>(fixture, `${mode}-submit`).click();
    await fixture.whenStable();
  }

  it('asks for a valid email and a password before sending anything', async () => {
    await render('login');
    await submit('login');
    expect(submitted).toEqual([]);
    expect(errors()).toEqual(['Enter your email address.', 'Enter your password.']);

    typeInto(field('email', 'login'), 'not-an-email');
    await fixture.whenStable();
    expect(errors()).toContain('Enter a valid email address, like name@example.com.');
  });

  it('signs in with any password the account may have (the rules apply at registration)', async () => {
    await render('login');
    typeInto(field('email', 'login'), '  ada@example.com ');
    typeInto(field('password', 'login'), 'short');
    await submit('login');
    expect(submitted).toEqual([{ email: 'ada@example.com', password: 'short' }]);
  });

  it('registers only with 8 characters to 72 bytes of password', async () => {
    await render('register');
    typeInto(field('email', 'register'), 'ada@example.com');

    typeInto(field('password', 'register'), '1234567');
    await submit('register');
    expect(errors()).toEqual(['Use at least 8 characters.']);

    typeInto(field('password', 'register'), '😀'.repeat(19));
    await submit('register');
    expect(errors()[0]).toMatch(/^Use at most 72 bytes: this one has 76/);

    typeInto(field('password', 'register'), 'é'.repeat(36));
    await submit('register');
    expect(errors()).toEqual([]);
    expect(submitted).toEqual([{ email: 'ada@example.com', password: 'é'.repeat(36) }]);
  });

  it("shows the server's answer as an alert", async () => {
    await render('login');
    fixture.componentRef.setInput('error', 'Invalid email or password.');
    await fixture.whenStable();
    const alert = byTestId(fixture, 'login-error');
    expect(alert.getAttribute('role')).toBe('alert');
    expect(text(alert)).toBe('Invalid email or password.');
  });

  it('cannot be sent while pending or while a wait is running', async () => {
    await render('login');
    typeInto(field('email', 'login'), 'ada@example.com');
    typeInto(field('password', 'login'), 'whatever1');
    fixture.componentRef.setInput('disabledReason', 'You can try again in 59 s.');
    await fixture.whenStable();
    expect(byTestId<HTMLButtonElement>(fixture, 'login-submit').disabled).toBe(true);
    expect(text(fixture.nativeElement as HTMLElement)).toContain('You can try again in 59 s.');
    fixture.componentInstance.submit();
    expect(submitted).toEqual([]);

    fixture.componentRef.setInput('disabledReason', null);
    fixture.componentRef.setInput('pending', true);
    await fixture.whenStable();
    expect(byTestId<HTMLButtonElement>(fixture, 'login-submit').disabled).toBe(true);
  });

  it('shows and hides the password', async () => {
    await render('login');
    const toggle = (fixture.nativeElement as HTMLElement).querySelector<HTMLButtonElement>('button[aria-label="Show password"]');
    expect(field('password', 'login').type).toBe('password');
    toggle?.click();
    await fixture.whenStable();
    expect(field('password', 'login').type).toBe('text');
    expect(toggle?.getAttribute('aria-label')).toBe('Hide password');
    expect(toggle?.getAttribute('aria-pressed')).toBe('true');
    expect(queryTestId(fixture, 'login-error')).toBeNull();
  });
});
