import { ChangeDetectionStrategy, Component, computed, input, output } from '@angular/core';
import type { ConnectionState } from './connection-state';
import { LazyTooltipDirective } from '../ui/lazy-tooltip.directive';

const TEXT: Record<ConnectionState, { label: string; description: string }> = {
  connected: { label: 'Live', description: 'Live updates: connected. Statuses change as they happen.' },
  reconnecting: { label: 'Connecting…', description: 'Live updates: connecting. Statuses catch up once connected.' },
  offline: { label: 'Offline', description: 'Live updates: offline. Statuses will not change until reconnected.' },
};

/** What the indicator says while connected but the server reports no worker running while jobs wait. */
export const NO_WORKER_TEXT = 'No worker is running: jobs will wait';

/**
 * A dot and a word for the live connection, announced politely when it changes; and, while the
 * server reports no worker running with jobs waiting, that they will wait.
 */
@Component({
  selector: 'app-connection-indicator',
  changeDetection: ChangeDetectionStrategy.OnPush,
  imports: [LazyTooltipDirective],
  template: `
    <span
      class="indicator"
      role="status"
      data-testid="connection-indicator"
      [attr.data-state]="state()"
      [attr.aria-label]="description()"
      [appTooltip]="description()"
    >
      <span class="dot" aria-hidden="true"></span>
      <span class="label" aria-hidden="true">{{ label() }}</span>
    </span>
    @if (noWorker()) {
      <span class="no-worker" role="status" data-testid="no-worker" [appTooltip]="noWorkerDescription">{{ noWorkerText }}</span>
    }
    @if (offline()) {
      <button type="button" class="app-button reconnect" data-testid="reconnect-button" (click)="reconnect.emit()">Reconnect</button>
    }
  `,
  styles: `
    :host {
      display: inline-flex;
      align-items: center;
      gap: 4px;
    }
    .indicator {
      display: inline-flex;
      align-items: center;
      gap: 8px;
      padding: 4px 12px;
      border-radius: var(--mat-sys-corner-full);
      background: var(--mat-sys-surface-container-highest);
      color: var(--mat-sys-on-surface);
      font: var(--mat-sys-label-large);
    }
    .dot {
      width: 10px;
      height: 10px;
      border-radius: 50%;
      background: var(--app-status-failed);
    }
    [data-state='connected'] .dot {
      background: var(--app-status-completed);
    }
    [data-state='reconnecting'] .dot {
      background: var(--app-status-queued);
      animation: pulse 1.2s ease-in-out infinite;
    }
    .no-worker {
      padding: 4px 12px;
      border-radius: var(--mat-sys-corner-full);
      background: var(--mat-sys-error-container);
      color: var(--mat-sys-on-error-container);
      font: var(--mat-sys-label-large);
    }
    @keyframes pulse {
      50% {
        opacity: 0.3;
      }
    }
  `,
})
export class ConnectionIndicatorComponent {
  readonly state = input.required<ConnectionState>();
  /** The server says no worker is running while jobs wait (WorkerHealth). */
  readonly workersDown = input(false);
  readonly reconnect = output<void>();

  readonly noWorkerText = NO_WORKER_TEXT;
  readonly noWorkerDescription = 'The server has no worker running: uploaded files wait in the queue until one starts.';
  /** Shown only while connected: offline or reconnecting already says more than this. */
  readonly noWorker = computed(() => this.workersDown() && this.state() === 'connected');

  readonly label = computed(() => TEXT[this.state()].label);
  readonly description = computed(() => TEXT[this.state()].description);
  readonly offline = computed(() => this.state() === 'offline');
}
