import { ChangeDetectionStrategy, Component, computed, input, output } from '@angular/core';
import { MatButtonModule } from '@angular/material/button';
import { MatIconModule } from '@angular/material/icon';
import { MatMenuModule } from '@angular/material/menu';
import { MatTooltipModule } from '@angular/material/tooltip';
import type { JobView } from '@app/shared';
import { canRetry } from '../jobs/job-media';
import type { ArchiveContent } from '../jobs/jobs-api.service';

const COUNT = new Intl.NumberFormat();

/**
 * What can be done with the selected jobs, in one bar: download as a zip (where the server makes
 * archives), retry the failed ones a retry can help, delete; in the trash restore and delete for
 * good. "Select all" takes every job in view.
 */
@Component({
  selector: 'app-bulk-bar',
  changeDetection: ChangeDetectionStrategy.OnPush,
  imports: [MatButtonModule, MatIconModule, MatMenuModule, MatTooltipModule],
  host: { role: 'toolbar', 'aria-label': 'Selected jobs', 'data-testid': 'bulk-bar' },
  template: `
    <button
      mat-icon-button
      type="button"
      data-testid="bulk-clear"
      aria-label="Clear the selection"
      matTooltip="Clear selection"
      (click)="clear.emit()"
    >
      <mat-icon svgIcon="close" />
    </button>
    <span class="count" data-testid="bulk-count" aria-live="polite">{{ countText() }}</span>
    @if (canSelectAll()) {
      <button mat-button type="button" data-testid="bulk-select-all" (click)="selectAll.emit()">Select all {{ totalText() }}</button>
    }
    <span class="spacer"></span>
    @if (trash()) {
      <button mat-button type="button" data-testid="bulk-restore" (click)="restore.emit()">
        <mat-icon svgIcon="restore_from_trash" />
        <span class="label">Restore</span>
      </button>
      <button mat-button type="button" class="danger" data-testid="bulk-delete-forever" (click)="deleteForever.emit()">
        <mat-icon svgIcon="delete_forever" />
        <span class="label">Delete for good</span>
      </button>
    } @else {
      @if (archives()) {
        <button mat-button type="button" data-testid="bulk-download" [matMenuTriggerFor]="zip">
          <mat-icon svgIcon="archive" />
          <span class="label">Download</span>
        </button>
        <mat-menu #zip="matMenu">
          <button mat-menu-item type="button" data-testid="bulk-download-thumbnails" (click)="download.emit('thumbnails')">
            Thumbnails (zip)
          </button>
          <button mat-menu-item type="button" data-testid="bulk-download-originals" (click)="download.emit('originals')">
            Originals (zip)
          </button>
        </mat-menu>
      }
      @if (retryable() > 0) {
        <button mat-button type="button" data-testid="bulk-retry" (click)="retry.emit()">
          <mat-icon svgIcon="refresh" />
          <span class="label">Retry {{ retryable() }}</span>
        </button>
      }
      <button mat-button type="button" class="danger" data-testid="bulk-delete" (click)="remove.emit()">
        <mat-icon svgIcon="delete" />
        <span class="label">Delete</span>
      </button>
    }
  `,
  styles: `
    :host {
      display: flex;
      flex-wrap: wrap;
      align-items: center;
      gap: 4px 8px;
      min-height: 56px;
      padding: 4px 8px;
      border-radius: var(--mat-sys-corner-large);
      background: var(--mat-sys-secondary-container);
      color: var(--mat-sys-on-secondary-container);
      box-sizing: border-box;
    }
    .count {
      font: var(--mat-sys-title-medium);
    }
    .spacer {
      flex: 1 1 auto;
    }
    button {
      --mat-button-text-label-text-color: var(--mat-sys-on-secondary-container);
      --mat-icon-button-icon-color: var(--mat-sys-on-secondary-container);
    }
    .danger {
      --mat-button-text-label-text-color: var(--mat-sys-error);
    }
    @media (max-width: 599px) {
      .label {
        display: none;
      }
    }
  `,
})
export class BulkBarComponent {
  readonly selected = input.required<readonly JobView[]>();
  /** Jobs in view (what "select all" would take). */
  readonly inView = input(0);
  readonly trash = input(false);
  readonly archives = input(false);
  readonly clear = output<void>();
  readonly selectAll = output<void>();
  readonly remove = output<void>();
  readonly retry = output<void>();
  readonly restore = output<void>();
  readonly deleteForever = output<void>();
  readonly download = output<ArchiveContent>();

  readonly countText = computed(() => `${COUNT.format(this.selected().length)} selected`);
  readonly totalText = computed(() => `(${COUNT.format(this.inView())})`);
  readonly canSelectAll = computed(() => this.inView() > this.selected().length);
  readonly retryable = computed(() => this.selected().filter(canRetry).length);
}
