import { provideHttpClient } from '@angular/common/http';
import { HttpTestingController, provideHttpClientTesting } from '@angular/common/http/testing';
import { TestBed } from '@angular/core/testing';
import { Router, provideRouter } from '@angular/router';
import type { AuthResult } from '@app/shared';
import { BLANK_ROUTES } from '../../testing/routes';
import { AuthService, renewalRetryDelay } from './auth.service';
import { sessionFromAuthResult } from './session';
import { EMAIL_STORAGE_KEY, SESSION_STORAGE_KEY } from './session-persistence';

const NOW = Date.UTC(2025, 0, 1, 12);

function authResult(expiresIn = 3600, token = 'token-1'): AuthResult {
  return { accessToken: token, expiresIn, user: { id: 'u1', email: 'ada@example.com', createdAt: '2025-01-01T00:00:00.000Z' } };
}

describe('AuthService', () => {
  let http: HttpTestingController;
  let router: Router;

  beforeEach(() => {
    jest.useFakeTimers({ now: NOW });
    localStorage.clear();
    TestBed.configureTestingModule({ providers: [provideRouter(BLANK_ROUTES), provideHttpClient(), provideHttpClientTesting()] });
    http = TestBed.inject(HttpTestingController);
    router = TestBed.inject(Router);
  });

  afterEach(() => {
    http.verify();
    jest.useRealTimers();
  });

  async function signIn(auth: AuthService, result = authResult()): Promise<void> {
    let done = false;
    auth.login({ email: 'ada@example.com', password: 'correct horse' }).subscribe(() => (done = true));
    const request = http.expectOne('/api/auth/login');
    expect(request.request.method).toBe('POST');
    expect(request.request.body).toEqual({ email: 'ada@example.com', password: 'correct horse' });
    request.flush(result);
    expect(done).toBe(true);
    await jest.advanceTimersByTimeAsync(0);
  }

  it('signs in: user, token and a stored session', async () => {
    const auth = TestBed.inject(AuthService);
    expect(auth.isSignedIn()).toBe(false);
    await signIn(auth);
    expect(auth.isSignedIn()).toBe(true);
    expect(auth.user()?.email).toBe('ada@example.com');
    expect(auth.token()).toBe('token-1');
    expect(JSON.parse(localStorage.getItem(SESSION_STORAGE_KEY) ?? 'null')).toEqual(sessionFromAuthResult(authResult(), NOW));
  });

  it('registers and is signed in straight away', () => {
    const auth = TestBed.inject(AuthService);
    auth.register({ email: 'new@example.com', password: '12345678' }).subscribe();
    http.expectOne({ method: 'POST', url: '/api/auth/register' }).flush(authResult(3600, 'token-new'));
    expect(auth.token()).toBe('token-new');
  });

  it('stays signed out when the server says no', () => {
    const auth = TestBed.inject(AuthService);
    let failed = false;
    auth.login({ email: 'ada@example.com', password: 'wrong' }).subscribe({ error: () => (failed = true) });
    http
      .expectOne('/api/auth/login')
      .flush({ statusCode: 401, error: 'Unauthorized', message: 'Invalid email or password' }, { status: 401, statusText: 'Unauthorized' });
    expect(failed).toBe(true);
    expect(auth.isSignedIn()).toBe(false);
    expect(localStorage.getItem(SESSION_STORAGE_KEY)).toBeNull();
  });

  it('stays signed in across a reload until the token expires', () => {
    localStorage.setItem(SESSION_STORAGE_KEY, JSON.stringify(sessionFromAuthResult(authResult(600), NOW - 60_000)));
    const auth = TestBed.inject(AuthService);
    expect(auth.isSignedIn()).toBe(true);
    expect(auth.token()).toBe('token-1');
  });

  it('does not restore an expired session', () => {
    localStorage.setItem(SESSION_STORAGE_KEY, JSON.stringify(sessionFromAuthResult(authResult(60), NOW - 61_000)));
    expect(TestBed.inject(AuthService).isSignedIn()).toBe(false);
  });

  it('signs out when the token expires and offers the way back', async () => {
    const auth = TestBed.inject(AuthService);
    await signIn(auth, authResult(60));
    await router.navigateByUrl('/dashboard');

    // A fifth of its life before the end, a renewal is tried; this server has none.
    await jest.advanceTimersByTimeAsync(48_000);
    http.expectOne({ method: 'POST', url: '/api/auth/refresh' }).flush('Not Found', { status: 404, statusText: 'Not Found' });
    await jest.advanceTimersByTimeAsync(11_000);
    expect(auth.isSignedIn()).toBe(true);

    await jest.advanceTimersByTimeAsync(1_000);
    expect(auth.isSignedIn()).toBe(false);
    expect(localStorage.getItem(SESSION_STORAGE_KEY)).toBeNull();
    expect(router.url).toBe('/login?reason=expired&returnUrl=%2Fdashboard');
  });

  it('keeps one expiry timer per session: a new sign-in replaces the old deadline', async () => {
    const auth = TestBed.inject(AuthService);
    await signIn(auth, authResult(60, 'short'));
    await signIn(auth, authResult(3600, 'long'));
    await jest.advanceTimersByTimeAsync(120_000);
    expect(auth.token()).toBe('long');
  });

  it('signs out on request, without a return URL', async () => {
    const auth = TestBed.inject(AuthService);
    await signIn(auth);
    await router.navigateByUrl('/dashboard');
    auth.signOut();
    // The server is told to revoke the refresh token (and forgets the session either way).
    http.expectOne({ method: 'POST', url: '/api/auth/logout' }).flush(null, { status: 204, statusText: 'No Content' });
    await jest.advanceTimersByTimeAsync(0);
    expect(localStorage.getItem(EMAIL_STORAGE_KEY)).toBeNull();
    expect(auth.isSignedIn()).toBe(false);
    expect(localStorage.getItem(SESSION_STORAGE_KEY)).toBeNull();
    expect(router.url).toBe('/login');
  });

  it('follows another tab signing out', async () => {
    const auth = TestBed.inject(AuthService);
    await signIn(auth);
    await router.navigateByUrl('/dashboard');
    localStorage.removeItem(SESSION_STORAGE_KEY);
    window.dispatchEvent(new StorageEvent('storage', { key: SESSION_STORAGE_KEY }));
    await jest.advanceTimersByTimeAsync(0);
    expect(auth.isSignedIn()).toBe(false);
    expect(router.url).toBe('/login');
  });

  it('renews the token before it expires, so an active user stays signed in', async () => {
    const auth = TestBed.inject(AuthService);
    await signIn(auth, authResult(3600, 'first'));
    await jest.advanceTimersByTimeAsync(3600_000 - 60_000);
    http.expectOne({ method: 'POST', url: '/api/auth/refresh' }).flush(authResult(3600, 'second'));
    await jest.advanceTimersByTimeAsync(0);
    expect(auth.token()).toBe('second');
    await jest.advanceTimersByTimeAsync(3600_000 - 60_000);
    http.expectOne({ method: 'POST', url: '/api/auth/refresh' }).flush(authResult(3600, 'third'));
    await jest.advanceTimersByTimeAsync(0);
    expect(auth.token()).toBe('third');
    expect(JSON.parse(localStorage.getItem(SESSION_STORAGE_KEY) ?? 'null')).toMatchObject({ token: 'third' });
  });

  it('when the renewal is refused, the session lasts until its token expires, and the email is kept', async () => {
    const auth = TestBed.inject(AuthService);
    await signIn(auth, authResult(600));
    await router.navigateByUrl('/dashboard');
    await jest.advanceTimersByTimeAsync(540_000);
    http
      .expectOne({ method: 'POST', url: '/api/auth/refresh' })
      .flush({ statusCode: 401, error: 'Unauthorized', message: 'expired' }, { status: 401, statusText: 'Unauthorized' });
    await jest.advanceTimersByTimeAsync(59_000);
    expect(auth.isSignedIn()).toBe(true);
    await jest.advanceTimersByTimeAsync(1_000);
    expect(auth.isSignedIn()).toBe(false);
    expect(router.url).toBe('/login?reason=expired&returnUrl=%2Fdashboard');
    expect(auth.rememberedEmail()).toBe('ada@example.com');
  });

  /**
   * Signed in on the dashboard, then the computer sleeps for hours: the clock jumps, and the
   * renewal timer fires late, after the token's expiry.
   */
  async function sleepPastExpiry(token?: string): Promise<AuthService> {
    const auth = TestBed.inject(AuthService);
    await signIn(auth, authResult(3600, token));
    await router.navigateByUrl('/dashboard');
    jest.setSystemTime(Date.now() + 2 * 3600_000);
    await jest.advanceTimersByTimeAsync(3600_000 - 60_000);
    return auth;
  }

  it('after sleeping past the expiry, renews with the refresh cookie instead of signing out', async () => {
    const auth = await sleepPastExpiry('before-sleep');
    expect(auth.isSignedIn()).toBe(true);
    http.expectOne({ method: 'POST', url: '/api/auth/refresh' }).flush(authResult(3600, 'after-sleep'));
    await jest.advanceTimersByTimeAsync(0);
    expect(auth.token()).toBe('after-sleep');
    expect(router.url).toBe('/dashboard');
  });

  it('after sleeping past the expiry while offline, keeps the session and renews once the server answers', async () => {
    const auth = await sleepPastExpiry('before-sleep');
    http.expectOne({ method: 'POST', url: '/api/auth/refresh' }).error(new ProgressEvent('error'));
    await jest.advanceTimersByTimeAsync(0);
    expect(auth.isSignedIn()).toBe(true);
    await jest.advanceTimersByTimeAsync(renewalRetryDelay(1));
    http.expectOne({ method: 'POST', url: '/api/auth/refresh' }).flush('Bad Gateway', { status: 502, statusText: 'Bad Gateway' });
    await jest.advanceTimersByTimeAsync(renewalRetryDelay(2));
    http.expectOne({ method: 'POST', url: '/api/auth/refresh' }).flush(authResult(3600, 'back-online'));
    await jest.advanceTimersByTimeAsync(0);
    expect(auth.token()).toBe('back-online');
    expect(router.url).toBe('/dashboard');
  });

  it('after sleeping past the expiry, signs out when the renewal is refused', async () => {
    const auth = await sleepPastExpiry();
    http
      .expectOne({ method: 'POST', url: '/api/auth/refresh' })
      .flush({ statusCode: 401, error: 'Unauthorized', message: 'expired' }, { status: 401, statusText: 'Unauthorized' });
    await jest.advanceTimersByTimeAsync(0);
    expect(auth.isSignedIn()).toBe(false);
    expect(router.url).toBe('/login?reason=expired&returnUrl=%2Fdashboard');
  });

  it('a tab that finds a fresher session stored by another tab takes it instead of renewing', async () => {
    const auth = TestBed.inject(AuthService);
    await signIn(auth, authResult(3600, 'mine'));
    localStorage.setItem(SESSION_STORAGE_KEY, JSON.stringify(sessionFromAuthResult(authResult(3600, 'other-tab'), NOW + 1000)));
    let renewed: boolean | null = null;
    auth.refresh().subscribe((value) => (renewed = value));
    await jest.advanceTimersByTimeAsync(0);
    http.expectNone('/api/auth/refresh');
    expect([renewed, auth.token()]).toEqual([true, 'other-tab']);
  });
});
