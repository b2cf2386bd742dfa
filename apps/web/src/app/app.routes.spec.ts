import { provideHttpClient } from '@angular/common/http';
import { HttpTestingController, provideHttpClientTesting } from '@angular/common/http/testing';
import { TestBed } from '@angular/core/testing';
import { provideRouter, Router, withComponentInputBinding } from '@angular/router';
import { RouterTestingHarness } from '@angular/router/testing';
import { queryTestId } from '../testing/dom';
import { provideFakeJobSocket } from '../testing/fake-job-socket';
import { aJob, aPage } from '../testing/jobs';
import { storeSession } from '../testing/session';
import { routes } from './app.routes';
import { provideAppIcons } from './ui/icons';

describe('app routes', () => {
  function setUp(signedIn: boolean): void {
    localStorage.clear();
    if (signedIn) storeSession();
    TestBed.configureTestingModule({
      providers: [
        provideAppIcons(),
        provideHttpClient(),
        provideHttpClientTesting(),
        provideFakeJobSocket(),
        provideRouter(routes, withComponentInputBinding()),
      ],
    });
  }

  it.each([
    ['/', '/login?returnUrl=%2Fdashboard'],
    ['/dashboard', '/login?returnUrl=%2Fdashboard'],
    ['/no/such/page', '/login?returnUrl=%2Fdashboard'],
    ['/register', '/register'],
  ])('signed out, %s leads to %s', async (url, expected) => {
    setUp(false);
    const harness = await RouterTestingHarness.create();
    await harness.navigateByUrl(url);
    expect(TestBed.inject(Router).url).toBe(expected);
  });

  it('signed out, /login shows the sign-in form', async () => {
    setUp(false);
    const harness = await RouterTestingHarness.create();
    await harness.navigateByUrl('/login');
    expect(queryTestId(harness.fixture.nativeElement as HTMLElement, 'login-submit')).not.toBeNull();
    expect(document.title).toBe('Sign in · Thumbs');
  });

  it('signed in, / opens the library inside the shell and reads the jobs', async () => {
    setUp(true);
    const harness = await RouterTestingHarness.create();
    await harness.navigateByUrl('/');
    expect(TestBed.inject(Router).url).toBe('/dashboard');
    const page = harness.fixture.nativeElement as HTMLElement;
    expect(queryTestId(page, 'account-menu')).not.toBeNull();
    expect(queryTestId(page, 'choose-files')).not.toBeNull();
    const http = TestBed.inject(HttpTestingController);
    http.expectOne('/api/docs-json').flush({ paths: {} });
    http.expectOne((req) => req.url === '/api/jobs').flush(aPage([]));
    await harness.fixture.whenStable();
    expect(queryTestId(page, 'jobs-empty')).not.toBeNull();
    expect(document.title).toBe('Library · Thumbs');
  });

  it('signed in, /jobs/:id opens the viewer over the library', async () => {
    setUp(true);
    const harness = await RouterTestingHarness.create();
    await harness.navigateByUrl('/jobs/j1');
    const http = TestBed.inject(HttpTestingController);
    http.expectOne('/api/docs-json').flush({ paths: {} });
    http.expectOne((req) => req.url === '/api/jobs').flush(aPage([aJob({ id: 'j1', originalFilename: 'cat.jpg', status: 'completed' })]));
    await harness.fixture.whenStable();
    const page = harness.fixture.nativeElement as HTMLElement;
    expect(queryTestId(page, 'job-grid')).not.toBeNull();
    expect(queryTestId(page, 'viewer')?.getAttribute('role')).toBe('dialog');
    expect(document.title).toBe('cat.jpg · Thumbs');
  });

  it('signed in, /login goes to the dashboard', async () => {
    setUp(true);
    const harness = await RouterTestingHarness.create();
    await harness.navigateByUrl('/login');
    expect(TestBed.inject(Router).url).toBe('/dashboard');
    TestBed.inject(HttpTestingController).match((req) => req.url === '/api/jobs' || req.url === '/api/docs-json');
  });
});
