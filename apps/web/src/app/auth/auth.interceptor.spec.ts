import { HttpClient, provideHttpClient, withInterceptors } from '@angular/common/http';
import { HttpTestingController, provideHttpClientTesting } from '@angular/common/http/testing';
import { TestBed } from '@angular/core/testing';
import { Router, provideRouter } from '@angular/router';
import { BLANK_ROUTES } from '../../testing/routes';
import { storeSession, TEST_USER } from '../../testing/session';
import { authInterceptor } from './auth.interceptor';
import { AuthService } from './auth.service';
import { SESSION_STORAGE_KEY } from './session-persistence';

describe('authInterceptor', () => {
  let http: HttpClient;
  let backend: HttpTestingController;
  let router: Router;

  beforeEach(() => {
    localStorage.clear();
    TestBed.configureTestingModule({
      providers: [provideRouter(BLANK_ROUTES), provideHttpClient(withInterceptors([authInterceptor])), provideHttpClientTesting()],
    });
    http = TestBed.inject(HttpClient);
    backend = TestBed.inject(HttpTestingController);
    router = TestBed.inject(Router);
  });

  afterEach(() => backend.verify());

  it('adds the bearer token to API requests', () => {
    storeSession('token-1');
    http.get('/api/jobs').subscribe();
    expect(backend.expectOne('/api/jobs').request.headers.get('Authorization')).toBe('Bearer token-1');
  });

  it('sends no token elsewhere, nor when signed out', () => {
    storeSession('token-1');
    http.get('https://example.com/api/jobs').subscribe();
    http.get('/apidocs').subscribe();
    expect(backend.expectOne('https://example.com/api/jobs').request.headers.has('Authorization')).toBe(false);
    expect(backend.expectOne('/apidocs').request.headers.has('Authorization')).toBe(false);

    localStorage.clear();
    TestBed.resetTestingModule();
    TestBed.configureTestingModule({
      providers: [provideRouter(BLANK_ROUTES), provideHttpClient(withInterceptors([authInterceptor])), provideHttpClientTesting()],
    });
    TestBed.inject(HttpClient).get('/api/jobs').subscribe();
    const controller = TestBed.inject(HttpTestingController);
    expect(controller.expectOne('/api/jobs').request.headers.has('Authorization')).toBe(false);
    controller.verify();
  });

  /**
   * Signed in on the dashboard, a request answered 401; its renewal (`POST /api/auth/refresh`)
   * answered `status`. Resolves the session and the status the request failed with.
   */
  async function refusedThenRenewal(status: number, statusText: string): Promise<{ auth: AuthService; failedWith: number }> {
    storeSession('token-1');
    const auth = TestBed.inject(AuthService);
    await router.navigateByUrl('/dashboard');
    let failedWith = 0;
    http.get('/api/jobs').subscribe({ error: (error: { status: number }) => (failedWith = error.status) });
    backend
      .expectOne('/api/jobs')
      .flush(
        { statusCode: 401, error: 'Unauthorized', message: 'Sign in required: missing, invalid or expired access token' },
        { status: 401, statusText: 'Unauthorized' },
      );
    await new Promise((resolve) => setTimeout(resolve));
    backend.expectOne({ method: 'POST', url: '/api/auth/refresh' }).flush(statusText, { status, statusText });
    await new Promise((resolve) => setTimeout(resolve));
    return { auth, failedWith };
  }

  it('on a 401 signs out and goes to /login with the way back', async () => {
    // One renewal is tried first; this server has none.
    const { auth, failedWith: status } = await refusedThenRenewal(404, 'Not Found');
    expect(status).toBe(401);
    expect(auth.isSignedIn()).toBe(false);
    expect(localStorage.getItem(SESSION_STORAGE_KEY)).toBeNull();
    expect(router.url).toBe('/login?reason=expired&returnUrl=%2Fdashboard');
  });

  it('leaves other errors to the caller', () => {
    storeSession('token-1');
    const auth = TestBed.inject(AuthService);
    http.get('/api/jobs/x').subscribe({ error: () => undefined });
    backend
      .expectOne('/api/jobs/x')
      .flush({ statusCode: 404, error: 'Not Found', message: 'Not found' }, { status: 404, statusText: 'Not Found' });
    expect(auth.isSignedIn()).toBe(true);
  });

  it('does not end a newer session because of a late 401 for an old token', () => {
    storeSession('old');
    const auth = TestBed.inject(AuthService);
    http.get('/api/jobs').subscribe({ error: () => undefined });
    const stale = backend.expectOne('/api/jobs');

    auth.login({ email: 'ada@example.com', password: 'correct horse' }).subscribe();
    backend.expectOne('/api/auth/login').flush({ accessToken: 'new', expiresIn: 3600, user: TEST_USER });
    stale.flush({ statusCode: 401, error: 'Unauthorized', message: 'expired' }, { status: 401, statusText: 'Unauthorized' });

    expect(auth.token()).toBe('new');
  });

  it('on a 401 renews the token once with the refresh cookie and sends the request again', async () => {
    storeSession('token-1');
    const auth = TestBed.inject(AuthService);
    let answer: unknown = null;
    http.get('/api/jobs').subscribe((body) => (answer = body));
    backend
      .expectOne('/api/jobs')
      .flush({ statusCode: 401, error: 'Unauthorized', message: 'expired' }, { status: 401, statusText: 'Unauthorized' });
    await new Promise((resolve) => setTimeout(resolve));
    const refresh = backend.expectOne({ method: 'POST', url: '/api/auth/refresh' });
    expect(refresh.request.headers.has('Authorization')).toBe(false);
    refresh.flush({ accessToken: 'token-2', expiresIn: 3600, user: TEST_USER });
    await new Promise((resolve) => setTimeout(resolve));
    const again = backend.expectOne('/api/jobs');
    expect(again.request.headers.get('Authorization')).toBe('Bearer token-2');
    again.flush({ items: [], nextCursor: null });
    expect(answer).toEqual({ items: [], nextCursor: null });
    expect(auth.token()).toBe('token-2');
  });

  it('on a 401 whose renewal cannot reach the server, fails the request but keeps the session', async () => {
    const { auth, failedWith: status } = await refusedThenRenewal(502, 'Bad Gateway');
    expect(status).toBe(401);
    expect(auth.token()).toBe('token-1');
    expect(router.url).toBe('/dashboard');
  });
});
