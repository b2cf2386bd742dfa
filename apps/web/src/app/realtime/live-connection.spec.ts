import { provideHttpClient } from '@angular/common/http';
import { HttpTestingController, provideHttpClientTesting } from '@angular/common/http/testing';
import { TestBed } from '@angular/core/testing';
import { provideRouter, Router } from '@angular/router';
import { FakeJobSocket, provideFakeJobSocket } from '../../testing/fake-job-socket';
import { BLANK_ROUTES } from '../../testing/routes';
import { storeSession, TEST_USER } from '../../testing/session';
import { AuthService } from '../auth/auth.service';
import { LiveConnection } from './live-connection';

describe('LiveConnection', () => {
  let socket: FakeJobSocket;
  let http: HttpTestingController;

  function setUp(signedIn: boolean): LiveConnection {
    localStorage.clear();
    if (signedIn) storeSession('token-1');
    TestBed.configureTestingModule({
      providers: [provideRouter(BLANK_ROUTES), provideHttpClient(), provideHttpClientTesting(), provideFakeJobSocket()],
    });
    socket = TestBed.inject(FakeJobSocket);
    http = TestBed.inject(HttpTestingController);
    const live = TestBed.inject(LiveConnection);
    TestBed.tick();
    return live;
  }

  it('stays offline while nobody is signed in', () => {
    const live = setUp(false);
    expect(socket.connectCalls).toBe(0);
    expect(live.state()).toBe('offline');
  });

  it('connects for a signed-in user, sending their token', () => {
    const live = setUp(true);
    expect(socket.connectCalls).toBe(1);
    expect(socket.token).toBe('token-1');
    socket.setState('connected');
    expect(live.state()).toBe('connected');
  });

  it('connects again with the new token after a new sign-in, and not at all after sign-out', () => {
    setUp(false);
    const auth = TestBed.inject(AuthService);
    auth.login({ email: 'ada@example.com', password: 'x' }).subscribe();
    http.expectOne('/api/auth/login').flush({ accessToken: 'token-2', expiresIn: 3600, user: TEST_USER });
    TestBed.tick();
    expect(socket.connectCalls).toBe(1);
    expect(socket.token).toBe('token-2');

    auth.signOut();
    TestBed.tick();
    expect(socket.currentState).toBe('offline');
    expect(socket.disconnectCalls).toBeGreaterThan(0);
    expect(socket.token).toBeNull();
  });

  /** Signed in on the dashboard when the server refuses the socket's token. */
  async function refusedOnDashboard(): Promise<{ auth: AuthService; router: Router }> {
    setUp(true);
    const auth = TestBed.inject(AuthService);
    const router = TestBed.inject(Router);
    await router.navigateByUrl('/dashboard');
    socket.refuseToken();
    TestBed.tick();
    await new Promise((resolve) => setTimeout(resolve));
    return { auth, router };
  }

  it('renews a token the server refuses and reconnects with the new one, still signed in', async () => {
    const { auth, router } = await refusedOnDashboard();
    expect(auth.isSignedIn()).toBe(true);
    http.expectOne({ method: 'POST', url: '/api/auth/refresh' }).flush({ accessToken: 'token-2', expiresIn: 3600, user: TEST_USER });
    await new Promise((resolve) => setTimeout(resolve));
    TestBed.tick();
    expect(auth.isSignedIn()).toBe(true);
    expect(router.url).toBe('/dashboard');
    expect(socket.token).toBe('token-2');
    expect(socket.connectCalls).toBe(2);
  });

  it('ends the session when the server refuses the token and its renewal', async () => {
    const { auth, router } = await refusedOnDashboard();
    http
      .expectOne({ method: 'POST', url: '/api/auth/refresh' })
      .flush({ statusCode: 401, error: 'Unauthorized', message: 'expired' }, { status: 401, statusText: 'Unauthorized' });
    await new Promise((resolve) => setTimeout(resolve));
    TestBed.tick();
    expect(auth.isSignedIn()).toBe(false);
    expect(router.url).toBe('/login?reason=expired&returnUrl=%2Fdashboard');
    expect(socket.currentState).toBe('offline');
  });

  it('reconnects on request, only while signed in', () => {
    const live = setUp(true);
    socket.setState('offline');
    live.reconnect();
    expect(socket.connectCalls).toBe(2);
    expect(live.state()).toBe('reconnecting');

    TestBed.inject(AuthService).signOut();
    TestBed.tick();
    live.reconnect();
    expect(socket.connectCalls).toBe(2);
  });
});
