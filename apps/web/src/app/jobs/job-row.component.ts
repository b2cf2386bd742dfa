import { ChangeDetectionStrategy, Component, computed, input, output, untracked } from '@angular/core';
import { MatButtonModule } from '@angular/material/button';
import { MatIconModule } from '@angular/material/icon';
import { MatTooltipModule } from '@angular/material/tooltip';
import { formatBytes, type JobView } from '@app/shared';
import { canRetry, failureAdvice } from './job-media';
import { JobThumbnailComponent } from './job-thumbnail.component';
import { StatusBadgeComponent } from './status-badge.component';

const TIME = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

/** Shown when a job failed and the server gave no reason. */
export const UNKNOWN_FAILURE = 'The thumbnail could not be made, and no reason was given.';

/**
 * One job as a row of the list view (fixed height, for the virtual scroller): a check mark,
 * thumbnail, name, facts or the error, status, and what can be done with it. Retry is offered only
 * where it can help; otherwise the error says what to do instead. Clicks on the row itself (not on
 * its buttons) are reported as `activate`.
 */
@Component({
  selector: 'app-job-row',
  changeDetection: ChangeDetectionStrategy.OnPush,
  imports: [MatButtonModule, MatIconModule, MatTooltipModule, JobThumbnailComponent, StatusBadgeComponent],
  host: {
    'data-testid': 'job-row',
    '[attr.data-job-id]': 'peek(job).id',
    '[attr.data-status]': 'peek(job).status',
    '[attr.aria-busy]': 'peek(busy)',
    '[class.selected]': 'peek(selected)',
    '(click)': 'onClick($event)',
  },
  templateUrl: './job-row.component.html',
  styleUrl: './job-row.component.scss',
})
export class JobRowComponent {
  readonly job = input.required<JobView>();
  /** A retry or delete of this job is under way. */
  readonly busy = input(false);
  readonly selected = input(false);
  /** Host bindings read the inputs untracked, as the grid's tiles do (see JobTileComponent.peek). */
  protected readonly peek = untracked;
  readonly retry = output<void>();
  readonly remove = output<void>();
  readonly thumbnailFailed = output<void>();
  readonly check = output<MouseEvent>();
  readonly activate = output<MouseEvent>();

  readonly name = computed(() => this.job().originalFilename);
  readonly meta = computed(() => {
    const job = this.job();
    const kind = job.fileType === 'video' ? 'Video' : 'Image';
    return [kind, formatBytes(job.fileSize), TIME.format(new Date(job.createdAt))].filter(Boolean).join(' · ');
  });
  readonly errorText = computed(() => (this.job().status === 'failed' ? this.job().errorMessage?.trim() || UNKNOWN_FAILURE : null));
  /** The whole error with what to do about it (the row shows one line). */
  readonly errorTitle = computed(() => [this.errorText(), failureAdvice(this.job())].filter(Boolean).join(' '));
  readonly downloadUrl = computed(() => (this.job().status === 'completed' ? this.job().downloadUrl : null));
  readonly canRetry = computed(() => canRetry(this.job()));
  readonly downloadLabel = computed(() => `Download the thumbnail of ${this.name()}`);
  readonly retryLabel = computed(() => `Retry ${this.name()}`);
  readonly deleteLabel = computed(() => `Delete ${this.name()}`);
  readonly checkLabel = computed(() => `Select ${this.name()}`);

  onClick(event: MouseEvent): void {
    const target = event.target as Element | null;
    if (target?.closest('button, a')) return;
    this.activate.emit(event);
  }
}
