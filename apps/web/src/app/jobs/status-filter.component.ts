import { ChangeDetectionStrategy, Component, computed, input, output } from '@angular/core';
import { MatButtonToggleChange, MatButtonToggleModule } from '@angular/material/button-toggle';
import { JOB_STATUSES, JobStatus } from '@app/shared';
import { JOB_STATUS_TEXT } from './job-status-text';

const ALL = 'all';

const OPTIONS = [
  { value: ALL, label: 'All', testId: 'status-filter-all' },
  ...JOB_STATUSES.map((status) => ({ value: status, label: JOB_STATUS_TEXT[status].label, testId: `status-filter-${status}` })),
];

/** All, or one status: which jobs the list shows. */
@Component({
  selector: 'app-status-filter',
  changeDetection: ChangeDetectionStrategy.OnPush,
  imports: [MatButtonToggleModule],
  template: `
    <mat-button-toggle-group
      data-testid="status-filter"
      aria-label="Show jobs with status"
      hideSingleSelectionIndicator
      [value]="selected()"
      [attr.data-value]="selected()"
      (change)="select($event)"
    >
      @for (option of options; track option.value) {
        <mat-button-toggle [value]="option.value" [attr.data-testid]="option.testId">{{ option.label }}</mat-button-toggle>
      }
    </mat-button-toggle-group>
  `,
  styles: `
    :host {
      display: block;
      max-width: 100%;
      overflow-x: auto;
    }
    mat-button-toggle-group {
      --mat-button-toggle-height: 36px;
    }
  `,
})
export class StatusFilterComponent {
  readonly value = input<JobStatus | null>(null);
  readonly valueChange = output<JobStatus | null>();

  readonly options = OPTIONS;
  readonly selected = computed(() => this.value() ?? ALL);

  select(change: MatButtonToggleChange): void {
    const value = change.value as string;
    this.valueChange.emit(value === ALL ? null : (value as JobStatus));
  }
}
