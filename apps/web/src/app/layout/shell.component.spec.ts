import { provideHttpClient } from '@angular/common/http';
import { provideHttpClientTesting } from '@angular/common/http/testing';
import { TestBed } from '@angular/core/testing';
import { provideRouter, Router } from '@angular/router';
import { RouterTestingHarness } from '@angular/router/testing';
import { byTestId, text } from '../../testing/dom';
import { FakeJobSocket, provideFakeJobSocket } from '../../testing/fake-job-socket';
import { BlankPageComponent } from '../../testing/routes';
import { storeSession } from '../../testing/session';
import { AuthService } from '../auth/auth.service';
import { SESSION_STORAGE_KEY } from '../auth/session-persistence';
import { provideAppIcons } from '../ui/icons';
import { provideFeatureSet } from '../http/server-features';
import { ShellComponent } from './shell.component';

describe('ShellComponent', () => {
  let harness: RouterTestingHarness;
  let socket: FakeJobSocket;

  beforeEach(async () => {
    localStorage.clear();
    storeSession();
    TestBed.configureTestingModule({
      providers: [
        provideAppIcons(),
        provideHttpClient(),
        provideHttpClientTesting(),
        provideFakeJobSocket(),
        provideFeatureSet(),
        provideRouter([
          { path: 'login', component: BlankPageComponent },
          { path: '', component: ShellComponent, children: [{ path: 'dashboard', component: BlankPageComponent }] },
        ]),
      ],
    });
    socket = TestBed.inject(FakeJobSocket);
    harness = await RouterTestingHarness.create('/dashboard');
  });

  it('shows who is signed in and the live connection as it changes', async () => {
    const page = harness.fixture.nativeElement as HTMLElement;
    byTestId<HTMLButtonElement>(page, 'account-menu').click();
    await harness.fixture.whenStable();
    expect(text(byTestId(document.body, 'user-email'))).toBe('ada@example.com');
    expect(byTestId(page, 'account-menu').getAttribute('aria-label')).toBe('Account: ada@example.com');
    expect(byTestId(page, 'connection-indicator').dataset['state']).toBe('reconnecting');
    socket.setState('connected');
    await harness.fixture.whenStable();
    expect(byTestId(page, 'connection-indicator').dataset['state']).toBe('connected');
    socket.setState('offline');
    await harness.fixture.whenStable();
    expect(byTestId(page, 'connection-indicator').dataset['state']).toBe('offline');
    byTestId<HTMLButtonElement>(page, 'reconnect-button').click();
    await harness.fixture.whenStable();
    expect(byTestId(page, 'connection-indicator').dataset['state']).toBe('reconnecting');
  });

  it('signs out: session gone, socket closed, back to /login', async () => {
    byTestId<HTMLButtonElement>(harness.fixture.nativeElement as HTMLElement, 'account-menu').click();
    await harness.fixture.whenStable();
    byTestId<HTMLButtonElement>(document.body, 'logout-button').click();
    await harness.fixture.whenStable();
    expect(TestBed.inject(AuthService).isSignedIn()).toBe(false);
    expect(localStorage.getItem(SESSION_STORAGE_KEY)).toBeNull();
    expect(socket.currentState).toBe('offline');
    expect(TestBed.inject(Router).url).toBe('/login');
  });

  it('lets keyboard users skip the toolbar', () => {
    const skip = (harness.fixture.nativeElement as HTMLElement).querySelector<HTMLAnchorElement>('.skip-link');
    expect(skip?.getAttribute('href')).toBe('#main');
    expect((harness.fixture.nativeElement as HTMLElement).querySelector('main#main')).not.toBeNull();
  });
});
