import { ChangeDetectionStrategy, Component, computed, input, output } from '@angular/core';
import { JOB_STATUSES, JobStatus } from '@app/shared';
import type { JobStats } from './jobs-api.service';
import { JOB_STATUS_TEXT } from './job-status-text';

const ALL = 'all';
const COUNT = new Intl.NumberFormat();

interface Option {
  value: JobStatus | typeof ALL;
  label: string;
  testId: string;
}

const OPTIONS: readonly Option[] = [
  { value: ALL, label: 'All', testId: 'status-filter-all' },
  ...JOB_STATUSES.map((status) => ({ value: status, label: JOB_STATUS_TEXT[status].label, testId: `status-filter-${status}` })),
];

/**
 * All, or one status: which jobs the list shows, as chips that wrap on narrow screens, each with
 * its count where the server keeps counts. Arrow keys move between chips (one tab stop).
 */
@Component({
  selector: 'app-status-filter',
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `
    <div class="chips" role="radiogroup" data-testid="status-filter" aria-label="Show jobs with status" [attr.data-value]="selected()">
      @for (option of options(); track option.value) {
        <button
          type="button"
          role="radio"
          class="chip"
          [attr.data-testid]="option.testId"
          [attr.aria-checked]="option.value === selected()"
          [attr.tabindex]="option.value === selected() ? 0 : -1"
          (click)="select(option.value)"
          (keydown)="move($event, option.value)"
        >
          {{ option.label }}
          @if (option.count !== null) {
            <span class="count">{{ option.count }}</span>
          }
        </button>
      }
    </div>
  `,
  styles: `
    .chips {
      display: flex;
      flex-wrap: wrap;
      gap: 8px;
    }
    .chip {
      display: inline-flex;
      align-items: center;
      gap: 6px;
      height: 32px;
      padding: 0 12px;
      border: 1px solid var(--mat-sys-outline-variant);
      border-radius: var(--mat-sys-corner-small);
      background: transparent;
      color: var(--mat-sys-on-surface-variant);
      font: var(--mat-sys-label-large);
      cursor: pointer;
    }
    .chip[aria-checked='true'] {
      border-color: transparent;
      background: var(--mat-sys-secondary-container);
      color: var(--mat-sys-on-secondary-container);
    }
    .count {
      font: var(--mat-sys-label-medium);
      opacity: 0.85;
    }
  `,
})
export class StatusFilterComponent {
  readonly value = input<JobStatus | null>(null);
  /** Counts from the server; none shown without them. */
  readonly stats = input<JobStats | null>(null);
  readonly valueChange = output<JobStatus | null>();

  readonly selected = computed(() => this.value() ?? ALL);
  readonly options = computed(() => {
    const stats = this.stats();
    return OPTIONS.map((option) => {
      const count = stats === null ? null : option.value === ALL ? stats.total : stats.byStatus[option.value];
      return { ...option, count: typeof count === 'number' ? COUNT.format(count) : null };
    });
  });

  select(value: JobStatus | typeof ALL): void {
    this.valueChange.emit(value === ALL ? null : value);
  }

  /** Arrow keys choose the previous or next chip, as in any radio group. */
  move(event: KeyboardEvent, from: Option['value']): void {
    const step =
      event.key === 'ArrowRight' || event.key === 'ArrowDown' ? 1 : event.key === 'ArrowLeft' || event.key === 'ArrowUp' ? -1 : 0;
    if (step === 0) return;
    event.preventDefault();
    const index = (OPTIONS.findIndex((option) => option.value === from) + step + OPTIONS.length) % OPTIONS.length;
    this.select(OPTIONS[index].value);
    const group = (event.target as HTMLElement).parentElement;
    queueMicrotask(() => group?.querySelector<HTMLElement>(`[data-testid="${OPTIONS[index].testId}"]`)?.focus());
  }
}
