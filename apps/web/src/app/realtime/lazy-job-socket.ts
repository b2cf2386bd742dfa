import { EnvironmentInjector, inject, Injectable } from '@angular/core';
import type { JobStatusEvent } from '@app/shared';
import { BehaviorSubject, Observable, ReplaySubject, startWith, switchMap } from 'rxjs';
import type { ConnectionState } from './connection-state';
import { JobSocket } from './job-socket';

/**
 * {@link JobSocket} whose implementation (Socket.IO's client, ≈ 13 kB compressed) is fetched at
 * the first `connect()`, i.e. once someone is signed in: the sign-in page never loads it. Until
 * then it is offline (or reconnecting from the moment a connection is asked for); afterwards
 * every stream is the loaded socket's. A `disconnect()` that comes before the chunk wins.
 */
@Injectable()
export class LazyJobSocket extends JobSocket {
  private readonly injector = inject(EnvironmentInjector);
  private readonly socket = new ReplaySubject<JobSocket>(1);
  private readonly waiting = new BehaviorSubject<ConnectionState>('offline');
  private loaded: JobSocket | null = null;
  private loading: Promise<JobSocket> | null = null;
  /** The token source of the last `connect()` not yet followed by a `disconnect()`. */
  private wanted: (() => string | null) | null = null;

  readonly statusEvents$: Observable<JobStatusEvent> = this.socket.pipe(switchMap((socket) => socket.statusEvents$));
  readonly state$: Observable<ConnectionState> = this.socket.pipe(
    startWith(null),
    switchMap((socket) => (socket ? socket.state$ : this.waiting)),
  );
  readonly unauthorized$: Observable<void> = this.socket.pipe(switchMap((socket) => socket.unauthorized$));
  readonly resync$: Observable<void> = this.socket.pipe(switchMap((socket) => socket.resync$));

  connect(token: () => string | null): void {
    this.wanted = token;
    if (this.loaded) {
      this.loaded.connect(token);
      return;
    }
    this.waiting.next('reconnecting');
    void this.load().then((socket) => {
      if (this.wanted === token) socket.connect(token);
    });
  }

  disconnect(): void {
    this.wanted = null;
    if (this.loaded) this.loaded.disconnect();
    else this.waiting.next('offline');
  }

  private load(): Promise<JobSocket> {
    this.loading ??= import('./socket-io-loader').then(({ createSocketIoJobSocket }) => {
      const socket = createSocketIoJobSocket(this.injector);
      this.loaded = socket;
      this.socket.next(socket);
      return socket;
    });
    return this.loading;
  }
}
