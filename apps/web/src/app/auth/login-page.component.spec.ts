import { HttpTestingController } from '@angular/common/http/testing';
import { TestBed } from '@angular/core/testing';
import { Router } from '@angular/router';
import { RouterTestingHarness } from '@angular/router/testing';
import { byTestId, queryTestId, text, typeInto } from '../../testing/dom';
import { setUpRoutedPage } from '../../testing/routed-page';
import { TEST_USER } from '../../testing/session';
import { LoginPageComponent } from './login-page.component';

describe('LoginPageComponent', () => {
  let harness: RouterTestingHarness;
  let http: HttpTestingController;

  beforeEach(async () => {
    ({ harness, http } = await setUpRoutedPage('login', LoginPageComponent));
  });

  afterEach(() => {
    http.verify();
    jest.useRealTimers();
  });

  async function signIn(settle: () => Promise<unknown> = () => harness.fixture.whenStable()): Promise<void> {
    typeInto(byTestId<HTMLInputElement>(harness.routeNativeElement!, 'login-email'), 'ada@example.com');
    typeInto(byTestId<HTMLInputElement>(harness.routeNativeElement!, 'login-password'), 'correct horse');
    byTestId<HTMLButtonElement>(harness.routeNativeElement!, 'login-submit').click();
    await settle();
  }

  it('signs in and goes back to where the user was sent from', async () => {
    await harness.navigateByUrl('/login?returnUrl=%2Fdashboard%3Fx%3D1');
    await signIn();
    http.expectOne('/api/auth/login').flush({ accessToken: 't', expiresIn: 3600, user: TEST_USER });
    await harness.fixture.whenStable();
    expect(TestBed.inject(Router).url).toBe('/dashboard?x=1');
  });

  it('never follows a return URL to another site', async () => {
    await harness.navigateByUrl('/login?returnUrl=https:%2F%2Fevil.example');
    await signIn();
    http.expectOne('/api/auth/login').flush({ accessToken: 't', expiresIn: 3600, user: TEST_USER });
    await harness.fixture.whenStable();
    expect(TestBed.inject(Router).url).toBe('/dashboard');
  });

  it('shows "Invalid email or password" from the API', async () => {
    await harness.navigateByUrl('/login');
    await signIn();
    http
      .expectOne('/api/auth/login')
      .flush({ statusCode: 401, error: 'Unauthorized', message: 'Invalid email or password' }, { status: 401, statusText: 'Unauthorized' });
    await harness.fixture.whenStable();
    expect(text(byTestId(harness.routeNativeElement!, 'login-error'))).toBe('Invalid email or password.');
    expect(TestBed.inject(Router).url).toBe('/login');
  });

  it('after too many attempts, waits as long as Retry-After says', async () => {
    await harness.navigateByUrl('/login');
    jest.useFakeTimers({ now: Date.UTC(2025, 0, 1, 12) });
    await signIn(() => jest.advanceTimersByTimeAsync(0));
    http
      .expectOne('/api/auth/login')
      .flush(
        { statusCode: 429, error: 'Too Many Requests', message: 'Too many failed sign-in attempts. Try again in 2 minutes.' },
        { status: 429, statusText: 'Too Many Requests', headers: { 'Retry-After': '120' } },
      );
    await jest.advanceTimersByTimeAsync(0);
    const page = harness.routeNativeElement!;
    expect(text(byTestId(page, 'login-error'))).toBe('Too many failed sign-in attempts. Try again in 2 minutes.');
    expect(text(page)).toContain('You can try again in 2 min 00 s.');
    expect(byTestId<HTMLButtonElement>(page, 'login-submit').disabled).toBe(true);

    await jest.advanceTimersByTimeAsync(61_050); // and a frame to render
    expect(text(page)).toContain('You can try again in 59 s.');

    await jest.advanceTimersByTimeAsync(60_000);
    expect(text(page)).not.toContain('You can try again');
    expect(queryTestId(page, 'login-error')).toBeNull();
    expect(byTestId<HTMLButtonElement>(page, 'login-submit').disabled).toBe(false);
  });

  it('says why the user is here after a session ended', async () => {
    await harness.navigateByUrl('/login?reason=expired&returnUrl=%2Fdashboard');
    expect(text(byTestId(harness.routeNativeElement!, 'login-notice'))).toMatch(/session has ended/);
    expect(byTestId<HTMLAnchorElement>(harness.routeNativeElement!, 'register-link').getAttribute('href')).toBe(
      '/register?returnUrl=%2Fdashboard',
    );
  });
});
