import { effect, inject, Injectable, Signal, untracked } from '@angular/core';
import { takeUntilDestroyed, toSignal } from '@angular/core/rxjs-interop';
import { AuthService } from '../auth/auth.service';
import type { ConnectionState } from './connection-state';
import { JobSocket } from './job-socket';

/**
 * Ties the live connection to the session: connected while signed in (again with each new token),
 * disconnected on sign-out; a token the server refuses is renewed, and the session ends when it cannot be.
 */
@Injectable({ providedIn: 'root' })
export class LiveConnection {
  private readonly socket = inject(JobSocket);
  private readonly auth = inject(AuthService);

  readonly state: Signal<ConnectionState> = toSignal(this.socket.state$, { initialValue: 'offline' });

  constructor() {
    effect(() => {
      const token = this.auth.token();
      untracked(() => (token ? this.open() : this.socket.disconnect()));
    });
    this.socket.unauthorized$.pipe(takeUntilDestroyed()).subscribe(() => {
      // Renewed, the new token reconnects (above); the session ends only if the renewal is refused.
      if (this.auth.isSignedIn()) this.auth.tokenRefused();
    });
  }

  /** Tries again after the connection gave up (the indicator's "Reconnect"). */
  reconnect(): void {
    if (this.auth.isSignedIn()) this.open();
  }

  private open(): void {
    this.socket.connect(() => this.auth.token());
  }
}
