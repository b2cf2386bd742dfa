import { EnvironmentProviders, inject, makeEnvironmentProviders, provideAppInitializer } from '@angular/core';
import { JobSocket } from './job-socket';
import { LazyJobSocket } from './lazy-job-socket';
import { LiveConnection } from './live-connection';

/**
 * The live connection: Socket.IO on the page's own origin at `/socket.io`, its client loaded with
 * the first connection (socket-io-loader.ts). Nothing connects, or loads, until a user is signed in.
 */
export function provideRealtime(): EnvironmentProviders {
  return makeEnvironmentProviders([
    { provide: JobSocket, useClass: LazyJobSocket },
    provideAppInitializer(() => {
      inject(LiveConnection);
    }),
  ]);
}
