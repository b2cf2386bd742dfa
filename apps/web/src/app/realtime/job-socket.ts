import type { JobStatusEvent } from '@app/shared';
import type { Observable } from 'rxjs';
import type { ConnectionState } from './connection-state';

/**
 * The real-time channel, as the rest of the app needs it (a port: the Socket.IO adapter
 * implements it, tests use an in-memory one). Streams are hot and never complete.
 */
export abstract class JobSocket {
  /** Every `job:status` event, in the order the server sent them. */
  abstract readonly statusEvents$: Observable<JobStatusEvent>;
  /** The current state on subscription, then every change. */
  abstract readonly state$: Observable<ConnectionState>;
  /** The server refused the token (`connect_error` `unauthorized`) or ended the session (`session:expired`). */
  abstract readonly unauthorized$: Observable<void>;
  /** The server may have missed status changes (`jobs:resync`): the jobs are to be read again. */
  abstract readonly resync$: Observable<void>;

  /**
   * Connects, or reconnects when already connected. `token` is read at every connection attempt,
   * automatic reconnections included, so they always use the current token.
   */
  abstract connect(token: () => string | null): void;

  abstract disconnect(): void;
}
