import { Component } from '@angular/core';
import { TestBed } from '@angular/core/testing';
import { provideRouter, Router } from '@angular/router';
import { RouterTestingHarness } from '@angular/router/testing';
import { provideHttpClient } from '@angular/common/http';
import { HttpTestingController, provideHttpClientTesting } from '@angular/common/http/testing';
import { storeSession, TEST_USER } from '../../testing/session';
import { EMAIL_STORAGE_KEY } from './session-persistence';
import { signedInGuard } from './signed-in.guard';
import { signedOutGuard } from './signed-out.guard';

@Component({ selector: 'app-page', template: 'page' })
class PageComponent {}

describe('route guards', () => {
  beforeEach(() => {
    localStorage.clear();
    TestBed.configureTestingModule({
      providers: [
        provideHttpClient(),
        provideHttpClientTesting(),
        provideRouter([
          { path: 'login', component: PageComponent, canActivate: [signedOutGuard] },
          { path: 'register', component: PageComponent, canActivate: [signedOutGuard] },
          { path: 'dashboard', component: PageComponent, canActivate: [signedInGuard] },
        ]),
      ],
    });
  });

  it('sends signed-out visitors of the dashboard to /login with the way back', async () => {
    const harness = await RouterTestingHarness.create();
    await harness.navigateByUrl('/dashboard?status=failed');
    expect(TestBed.inject(Router).url).toBe('/login?returnUrl=%2Fdashboard%3Fstatus%3Dfailed');
  });

  it('lets signed-in users onto the dashboard', async () => {
    storeSession();
    const harness = await RouterTestingHarness.create();
    await harness.navigateByUrl('/dashboard');
    expect(TestBed.inject(Router).url).toBe('/dashboard');
  });

  it.each(['/login', '/register'])('keeps signed-in users off %s', async (url) => {
    storeSession();
    const harness = await RouterTestingHarness.create();
    await harness.navigateByUrl(url);
    expect(TestBed.inject(Router).url).toBe('/dashboard');
  });

  it.each(['/login', '/register'])('lets signed-out visitors onto %s', async (url) => {
    const harness = await RouterTestingHarness.create();
    await harness.navigateByUrl(url);
    expect(TestBed.inject(Router).url).toBe(url);
  });

  it('renews a session that ended while the app was closed, with the refresh cookie', async () => {
    localStorage.setItem(EMAIL_STORAGE_KEY, 'ada@example.com');
    const harness = await RouterTestingHarness.create();
    const navigation = harness.navigateByUrl('/dashboard');
    await new Promise((resolve) => setTimeout(resolve));
    TestBed.inject(HttpTestingController)
      .expectOne({ method: 'POST', url: '/api/auth/refresh' })
      .flush({ accessToken: 'renewed', expiresIn: 3600, user: TEST_USER });
    await navigation;
    expect(TestBed.inject(Router).url).toBe('/dashboard');
  });

  it('says that the session ended when it cannot be renewed', async () => {
    localStorage.setItem(EMAIL_STORAGE_KEY, 'ada@example.com');
    const harness = await RouterTestingHarness.create();
    const navigation = harness.navigateByUrl('/dashboard');
    await new Promise((resolve) => setTimeout(resolve));
    TestBed.inject(HttpTestingController)
      .expectOne({ method: 'POST', url: '/api/auth/refresh' })
      .flush({ statusCode: 401, error: 'Unauthorized', message: 'No session' }, { status: 401, statusText: 'Unauthorized' });
    await navigation;
    expect(TestBed.inject(Router).url).toBe('/login?reason=expired&returnUrl=%2Fdashboard');
  });
});
