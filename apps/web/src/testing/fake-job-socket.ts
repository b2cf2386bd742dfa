import { Injectable, Provider } from '@angular/core';
import type { JobStatusEvent } from '@app/shared';
import { BehaviorSubject, distinctUntilChanged, Subject } from 'rxjs';
import type { ConnectionState } from '../app/realtime/connection-state';
import { JobSocket } from '../app/realtime/job-socket';

/**
 * An in-memory {@link JobSocket} for specs whose subject is not the socket itself: the test
 * plays the server (events, connection changes, a refused token) and sees what the app asked for.
 */
@Injectable()
export class FakeJobSocket extends JobSocket {
  private readonly events = new Subject<JobStatusEvent>();
  private readonly state = new BehaviorSubject<ConnectionState>('offline');
  private readonly refusals = new Subject<void>();
  private readonly resyncs = new Subject<void>();
  private tokenSource: (() => string | null) | null = null;

  readonly statusEvents$ = this.events.asObservable();
  readonly state$ = this.state.pipe(distinctUntilChanged());
  readonly unauthorized$ = this.refusals.asObservable();
  readonly resync$ = this.resyncs.asObservable();
  connectCalls = 0;
  disconnectCalls = 0;

  connect(token: () => string | null): void {
    this.tokenSource = token;
    this.connectCalls += 1;
    this.state.next('reconnecting');
  }

  disconnect(): void {
    this.tokenSource = null;
    this.disconnectCalls += 1;
    this.state.next('offline');
  }

  /** The token the app would send on a connection attempt now. */
  get token(): string | null {
    return this.tokenSource?.() ?? null;
  }

  get currentState(): ConnectionState {
    return this.state.value;
  }

  emit(event: JobStatusEvent): void {
    this.events.next(event);
  }

  /** The server says it may have missed status changes (`jobs:resync`). */
  askResync(): void {
    this.resyncs.next();
  }

  setState(state: ConnectionState): void {
    this.state.next(state);
  }

  refuseToken(): void {
    this.state.next('offline');
    this.refusals.next();
  }
}

export function provideFakeJobSocket(): Provider[] {
  return [FakeJobSocket, { provide: JobSocket, useExisting: FakeJobSocket }];
}
