import { ChangeDetectionStrategy, Component, computed, input } from '@angular/core';
import { MatIconModule } from '@angular/material/icon';
import type { JobStatus } from '@app/shared';
import { JOB_STATUS_TEXT } from './job-status-text';
import { LazyTooltipDirective } from '../ui/lazy-tooltip.directive';

const ICON: Readonly<Record<JobStatus, string>> = {
  pending: 'schedule',
  queued: 'schedule',
  processing: 'sync',
  completed: 'check_circle',
  failed: 'error',
};

/** A job's status as a coloured badge with an icon and a word (never colour alone). */
@Component({
  selector: 'app-status-badge',
  changeDetection: ChangeDetectionStrategy.OnPush,
  imports: [MatIconModule, LazyTooltipDirective],
  template: `
    <span
      class="badge"
      data-testid="status-badge"
      [attr.data-status]="status()"
      [class]="statusClass()"
      [appTooltip]="description()"
      [attr.aria-label]="ariaLabel()"
      role="img"
    >
      <mat-icon class="icon" [svgIcon]="icon()" aria-hidden="true" />
      <span class="label" aria-hidden="true">{{ label() }}</span>
    </span>
  `,
  styleUrl: './status-badge.component.scss',
})
export class StatusBadgeComponent {
  readonly status = input.required<JobStatus>();

  readonly label = computed(() => JOB_STATUS_TEXT[this.status()].label);
  readonly description = computed(() => JOB_STATUS_TEXT[this.status()].description);
  readonly ariaLabel = computed(() => `Status: ${this.label()}`);
  readonly icon = computed(() => ICON[this.status()]);
  readonly statusClass = computed(() => `status-${this.status()}`);
}
