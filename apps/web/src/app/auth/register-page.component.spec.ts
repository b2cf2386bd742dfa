import { HttpTestingController } from '@angular/common/http/testing';
import { TestBed } from '@angular/core/testing';
import { Router } from '@angular/router';
import { RouterTestingHarness } from '@angular/router/testing';
import { byTestId, queryTestId, text, typeInto } from '../../testing/dom';
import { setUpRoutedPage } from '../../testing/routed-page';
import { AuthService } from './auth.service';
import { RegisterPageComponent } from './register-page.component';

describe('RegisterPageComponent', () => {
  let harness: RouterTestingHarness;
  let http: HttpTestingController;

  beforeEach(async () => {
    ({ harness, http } = await setUpRoutedPage('register', RegisterPageComponent, '/register'));
  });

  afterEach(() => http.verify());

  async function register(email: string, password: string): Promise<void> {
    const page = harness.routeNativeElement!;
    typeInto(byTestId<HTMLInputElement>(page, 'register-email'), email);
    typeInto(byTestId<HTMLInputElement>(page, 'register-password'), password);
    byTestId<HTMLButtonElement>(page, 'register-submit').click();
    await harness.fixture.whenStable();
  }

  it('creates the account, signs in and opens the dashboard', async () => {
    await register('new@example.com', 'long enough');
    const request = http.expectOne('/api/auth/register');
    expect(request.request.body).toEqual({ email: 'new@example.com', password: 'long enough' });
    request.flush({
      accessToken: 't',
      expiresIn: 3600,
      user: { id: 'u2', email: 'new@example.com', createdAt: '2025-01-01T00:00:00.000Z' },
    });
    await harness.fixture.whenStable();
    expect(TestBed.inject(AuthService).user()?.email).toBe('new@example.com');
    expect(TestBed.inject(Router).url).toBe('/dashboard');
  });

  it('sends nothing while the password breaks the rules', async () => {
    await register('new@example.com', 'short');
    http.expectNone('/api/auth/register');
    expect(text(harness.routeNativeElement)).toContain('Use at least 8 characters.');
  });

  it('says when the email is taken and offers to sign in', async () => {
    await register('ada@example.com', 'long enough');
    http
      .expectOne('/api/auth/register')
      .flush(
        { statusCode: 409, error: 'Conflict', message: 'This email is already registered. Sign in instead.' },
        { status: 409, statusText: 'Conflict' },
      );
    await harness.fixture.whenStable();
    const page = harness.routeNativeElement!;
    expect(text(byTestId(page, 'register-error'))).toBe('This email is already registered. Sign in instead.');
    expect(byTestId<HTMLAnchorElement>(page, 'login-instead-link').getAttribute('href')).toBe('/login');
  });

  it("lists the API's field errors", async () => {
    await register('ada@example.com', 'long enough');
    http
      .expectOne('/api/auth/register')
      .flush(
        { statusCode: 400, error: 'Bad Request', message: ['email must be a valid email address'] },
        { status: 400, statusText: 'Bad Request' },
      );
    await harness.fixture.whenStable();
    const page = harness.routeNativeElement!;
    expect(text(byTestId(page, 'register-error'))).toBe('Email must be a valid email address.');
    expect(queryTestId(page, 'email-taken')).toBeNull();
  });
});
