import { provideHttpClient } from '@angular/common/http';
import { provideHttpClientTesting } from '@angular/common/http/testing';
import { TestBed } from '@angular/core/testing';
import { provideRouter, Router } from '@angular/router';
import { RouterTestingHarness } from '@angular/router/testing';
import { byTestId, queryTestId, text } from '../../testing/dom';
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

  /** Waits (a few change detections) for what a `@defer` block loads. */
  async function until(done: () => boolean): Promise<void> {
    for (let i = 0; i < 50 && !done(); i += 1) {
      await new Promise((resolve) => setTimeout(resolve, 10));
      await harness.fixture.whenStable();
    }
    expect(done()).toBe(true);
  }

  /** Presses the account stand-in; the menu loads and opens. */
  async function openAccountMenu(): Promise<void> {
    byTestId<HTMLButtonElement>(harness.fixture.nativeElement as HTMLElement, 'account-menu').click();
    await until(() => queryTestId(document.body, 'logout-button') !== null);
  }

  it('shows who is signed in and the live connection as it changes', async () => {
    const page = harness.fixture.nativeElement as HTMLElement;
    await openAccountMenu();
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
    await openAccountMenu();
    byTestId<HTMLButtonElement>(document.body, 'logout-button').click();
    await harness.fixture.whenStable();
    expect(TestBed.inject(AuthService).isSignedIn()).toBe(false);
    expect(localStorage.getItem(SESSION_STORAGE_KEY)).toBeNull();
    expect(socket.currentState).toBe('offline');
    expect(TestBed.inject(Router).url).toBe('/login');
  });

  it('loads the menus on the first press of their buttons and opens them at once, first item focused', async () => {
    const page = harness.fixture.nativeElement as HTMLElement;
    const standIn = byTestId<HTMLButtonElement>(page, 'choose-files');
    expect(standIn.getAttribute('aria-haspopup')).toBe('menu');
    expect(queryTestId(document.body, 'upload-files')).toBeNull();
    standIn.focus();
    // A click made with Enter or Space (detail 0), before the menu exists.
    standIn.dispatchEvent(new MouseEvent('click', { bubbles: true, detail: 0 }));
    await until(() => queryTestId(document.body, 'upload-files') !== null);
    expect(byTestId(page, 'choose-files')).not.toBe(standIn);
    expect(byTestId(page, 'choose-files').getAttribute('aria-expanded')).toBe('true');
    expect(document.activeElement).toBe(byTestId(document.body, 'upload-files'));
  });

  it('opens a menu loaded by Enter on its stand-in, with no click from the key (the menu may arrive before it)', async () => {
    const page = harness.fixture.nativeElement as HTMLElement;
    const standIn = byTestId<HTMLButtonElement>(page, 'choose-files');
    standIn.focus();
    const enter = new KeyboardEvent('keydown', { key: 'Enter', bubbles: true, cancelable: true });
    standIn.dispatchEvent(enter);
    // The browser makes no click of a key whose keydown was prevented.
    expect(enter.defaultPrevented).toBe(true);
    await until(() => queryTestId(document.body, 'upload-files') !== null);
    expect(byTestId(page, 'choose-files').getAttribute('aria-expanded')).toBe('true');
    expect(document.activeElement).toBe(byTestId(document.body, 'upload-files'));
  });

  it('leaves a menu unloaded when the focus only passes its stand-in (Tab), so the button is one tab stop', async () => {
    const page = harness.fixture.nativeElement as HTMLElement;
    const standIn = byTestId<HTMLButtonElement>(page, 'account-menu');
    standIn.focus();
    const tab = new KeyboardEvent('keydown', { key: 'Tab', bubbles: true, cancelable: true });
    standIn.dispatchEvent(tab);
    expect(tab.defaultPrevented).toBe(false);
    // Long enough for the menu to have arrived, had the key loaded it.
    for (let i = 0; i < 10; i += 1) {
      await new Promise((resolve) => setTimeout(resolve, 10));
      await harness.fixture.whenStable();
    }
    expect(byTestId(page, 'account-menu')).toBe(standIn);
    expect(document.activeElement).toBe(standIn);
  });

  it('lets keyboard users skip the toolbar', () => {
    const skip = (harness.fixture.nativeElement as HTMLElement).querySelector<HTMLAnchorElement>('.skip-link');
    expect(skip?.getAttribute('href')).toBe('#main');
    expect((harness.fixture.nativeElement as HTMLElement).querySelector('main#main')).not.toBeNull();
  });
});
