import { Component } from '@angular/core';
import { TestBed } from '@angular/core/testing';
import { provideRouter, Router } from '@angular/router';
import { RouterTestingHarness } from '@angular/router/testing';
import { provideHttpClient } from '@angular/common/http';
import { provideHttpClientTesting } from '@angular/common/http/testing';
import { storeSession } from '../../testing/session';
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
});
