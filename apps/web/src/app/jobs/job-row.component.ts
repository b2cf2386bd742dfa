import { ChangeDetectionStrategy, Component, computed, input, output } from '@angular/core';
import { MatButtonModule } from '@angular/material/button';
import { MatIconModule } from '@angular/material/icon';
import { MatTooltipModule } from '@angular/material/tooltip';
import type { JobView } from '@app/shared';
import { formatBytes } from '../ui/format-bytes';
import { JobThumbnailComponent } from './job-thumbnail.component';
import { StatusBadgeComponent } from './status-badge.component';

const TIME = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

/** Shown when a job failed and the server gave no reason. */
export const UNKNOWN_FAILURE = 'The thumbnail could not be made, and no reason was given.';

/** One job: thumbnail, name, facts, status, the error when it failed, and what can be done with it. */
@Component({
  selector: 'app-job-row',
  changeDetection: ChangeDetectionStrategy.OnPush,
  imports: [MatButtonModule, MatIconModule, MatTooltipModule, JobThumbnailComponent, StatusBadgeComponent],
  host: {
    'data-testid': 'job-row',
    '[attr.data-job-id]': 'job().id',
    '[attr.data-status]': 'job().status',
    '[attr.aria-busy]': 'busy()',
  },
  templateUrl: './job-row.component.html',
  styleUrl: './job-row.component.scss',
})
export class JobRowComponent {
  readonly job = input.required<JobView>();
  /** A retry or delete of this job is under way. */
  readonly busy = input(false);
  readonly retry = output<void>();
  readonly remove = output<void>();
  readonly thumbnailFailed = output<void>();

  readonly name = computed(() => this.job().originalFilename);
  readonly meta = computed(() => {
    const job = this.job();
    const kind = job.fileType === 'video' ? 'Video' : 'Image';
    return [kind, formatBytes(job.fileSize), TIME.format(new Date(job.createdAt))].filter(Boolean).join(' · ');
  });
  readonly errorText = computed(() => (this.job().status === 'failed' ? this.job().errorMessage?.trim() || UNKNOWN_FAILURE : null));
  readonly downloadUrl = computed(() => (this.job().status === 'completed' ? this.job().downloadUrl : null));
  readonly canRetry = computed(() => this.job().status === 'failed');
  readonly downloadLabel = computed(() => `Download the thumbnail of ${this.name()}`);
  readonly retryLabel = computed(() => `Retry ${this.name()}`);
  readonly deleteLabel = computed(() => `Delete ${this.name()}`);
}
