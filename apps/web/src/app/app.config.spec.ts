import { ApplicationRef, EnvironmentInjector } from '@angular/core';
import { bootstrapApplication } from '@angular/platform-browser';
import { Router } from '@angular/router';
import { Socket } from 'ngx-socket-io';
import { firstValueFrom } from 'rxjs';
import { AppComponent } from './app.component';
import { appConfig } from './app.config';
import { JobSocket } from './realtime/job-socket';
import { LazyJobSocket } from './realtime/lazy-job-socket';
import { createSocketIoJobSocket } from './realtime/socket-io-loader';
import { SocketIoJobSocket } from './realtime/socket-io-job-socket';

// The real configuration, bootstrapped as main.ts does (nothing connects while signed out).
describe('appConfig', () => {
  let app: ApplicationRef;

  beforeEach(async () => {
    jest.spyOn(console, 'log').mockImplementation(() => undefined); // "Angular is running in development mode."
    localStorage.clear();
    document.body.innerHTML = '<app-root></app-root>';
    app = await bootstrapApplication(AppComponent, appConfig);
  });

  afterEach(() => {
    app.destroy();
    document.body.innerHTML = '';
    jest.restoreAllMocks();
  });

  it('boots to the sign-in page with its icons, the socket idle', async () => {
    const router = app.injector.get(Router);
    await router.navigateByUrl('/');
    await app.whenStable();
    expect(router.url).toBe('/login?returnUrl=%2Fdashboard');
    expect(document.querySelector('[data-testid="login-submit"]')).not.toBeNull();
    expect(document.querySelector('mat-icon svg')).not.toBeNull();

    // Socket.IO's client is loaded with the first connection, i.e. after signing in.
    const socket = app.injector.get(JobSocket);
    expect(socket).toBeInstanceOf(LazyJobSocket);
    expect(await firstValueFrom(socket.state$)).toBe('offline');
  });

  it('has the lazy chunk make a Socket.IO adapter on /socket.io that does not connect by itself', () => {
    const adapter = createSocketIoJobSocket(app.injector.get(EnvironmentInjector));
    expect(adapter).toBeInstanceOf(SocketIoJobSocket);
    const socket = (adapter as unknown as { socket: Socket }).socket;
    expect(socket.ioSocket.io.opts.path).toBe('/socket.io');
    expect(socket.active).toBe(false);
  });
});
