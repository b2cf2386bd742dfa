import { EnvironmentProviders, inject, makeEnvironmentProviders, provideAppInitializer } from '@angular/core';
import { provideSocketIo } from 'ngx-socket-io';
import { JobSocket } from './job-socket';
import { LiveConnection } from './live-connection';
import { SocketIoJobSocket } from './socket-io-job-socket';

/**
 * Socket.IO on the page's own origin at `/socket.io` (the api serves the app; in development the
 * dev server proxies it). Nothing connects until a user is signed in.
 */
export function provideRealtime(): EnvironmentProviders {
  return makeEnvironmentProviders([
    provideSocketIo({ url: '/', options: { path: '/socket.io', autoConnect: false } }),
    { provide: JobSocket, useClass: SocketIoJobSocket },
    provideAppInitializer(() => {
      inject(LiveConnection);
    }),
  ]);
}
