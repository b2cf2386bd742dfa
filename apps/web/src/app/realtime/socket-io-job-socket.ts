import { DestroyRef, inject, Injectable } from '@angular/core';
import { takeUntilDestroyed } from '@angular/core/rxjs-interop';
import { JobStatusEvent, SOCKET_EVENTS, SOCKET_UNAUTHORIZED } from '@app/shared';
import { Socket } from 'ngx-socket-io';
import { BehaviorSubject, distinctUntilChanged, filter, map, merge, Observable } from 'rxjs';
import type { ConnectionState } from './connection-state';
import { JobSocket } from './job-socket';

/**
 * {@link JobSocket} over ngx-socket-io. The socket is created with `autoConnect: false`; every
 * connection attempt sends `auth: { token }` with the token of that moment.
 *
 * What the server sends (`job:status`, `session:expired`, `jobs:resync`) comes through ngx-socket-io's
 * `fromEvent`. The socket's own lifecycle events are read with plain listeners: ngx-socket-io
 * calls `ApplicationRef.tick()` after every event it relays, and `disconnect` fires synchronously
 * inside `disconnect()`, which runs from an effect, i.e. during change detection (NG0101).
 * Signals fed from these streams schedule rendering by themselves.
 *
 * A refused token (`connect_error` `unauthorized`) and `session:expired` (sent just before the
 * server drops a socket whose token ran out) both end up in `unauthorized$`.
 *
 * State: `connect` → connected; `disconnect` and `connect_error` → reconnecting while Socket.IO
 * keeps trying (`socket.active`), offline when it has given up (our own disconnect, a refused
 * token, the server closing the session); the manager's `reconnect_attempt` → reconnecting.
 */
@Injectable()
export class SocketIoJobSocket extends JobSocket {
  private readonly socket = inject(Socket);
  private readonly state = new BehaviorSubject<ConnectionState>('offline');

  readonly statusEvents$: Observable<JobStatusEvent> = this.socket.fromEvent<JobStatusEvent, string>(SOCKET_EVENTS.jobStatus);
  readonly state$: Observable<ConnectionState> = this.state.pipe(distinctUntilChanged());
  readonly resync$: Observable<void> = this.socket.fromEvent<void, string>(SOCKET_EVENTS.resync).pipe(map(() => undefined));
  readonly unauthorized$: Observable<void> = merge(
    this.lifecycle<Error | undefined>('connect_error').pipe(filter((error) => error?.message === SOCKET_UNAUTHORIZED)),
    this.socket.fromEvent<void, string>(SOCKET_EVENTS.sessionExpired),
  ).pipe(map(() => undefined));

  constructor() {
    super();
    const stillTrying = (): ConnectionState => (this.socket.active ? 'reconnecting' : 'offline');
    merge(
      this.lifecycle('connect').pipe(map((): ConnectionState => 'connected')),
      this.lifecycle('disconnect').pipe(map(stillTrying)),
      this.lifecycle('connect_error').pipe(map(stillTrying)),
      this.reconnectAttempts().pipe(map((): ConnectionState => 'reconnecting')),
    )
      .pipe(takeUntilDestroyed(inject(DestroyRef)))
      .subscribe((state) => this.state.next(state));
  }

  connect(token: () => string | null): void {
    if (this.socket.active) this.socket.disconnect();
    this.socket.auth = (send: (auth: { token: string | null }) => void) => send({ token: token() });
    this.state.next('reconnecting');
    this.socket.connect();
  }

  disconnect(): void {
    this.socket.disconnect();
    this.state.next('offline');
  }

  /** An event the socket emits about itself, without ngx-socket-io's tick. */
  private lifecycle<T = void>(name: 'connect' | 'disconnect' | 'connect_error'): Observable<T> {
    return new Observable<T>((subscriber) => {
      const socket = this.socket.ioSocket;
      const listener = (value?: unknown) => subscriber.next(value as T);
      socket.on(name, listener);
      return () => socket.off(name, listener);
    });
  }

  /** The manager's reconnection attempts (the socket itself does not emit them). */
  private reconnectAttempts(): Observable<void> {
    return new Observable<void>((subscriber) => {
      const manager = this.socket.io;
      const listener = () => subscriber.next();
      manager.on('reconnect_attempt', listener);
      return () => manager.off('reconnect_attempt', listener);
    });
  }
}
