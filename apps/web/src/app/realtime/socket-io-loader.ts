import { createEnvironmentInjector, EnvironmentInjector } from '@angular/core';
import { provideSocketIo } from 'ngx-socket-io';
import type { JobSocket } from './job-socket';
import { SocketIoJobSocket } from './socket-io-job-socket';

/**
 * The Socket.IO adapter and its client, in a chunk of their own that {@link LazyJobSocket} loads
 * at the first connection (nobody signed in, nobody needs it): Socket.IO on the page's own origin
 * at `/socket.io` (the api serves the app; in development the dev server proxies it).
 */
export function createSocketIoJobSocket(parent: EnvironmentInjector): JobSocket {
  const injector = createEnvironmentInjector(
    [provideSocketIo({ url: '/', options: { path: '/socket.io', autoConnect: false } }), SocketIoJobSocket],
    parent,
    'socket.io',
  );
  return injector.get(SocketIoJobSocket);
}
