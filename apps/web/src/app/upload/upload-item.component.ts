import { ChangeDetectionStrategy, Component, computed, input, output } from '@angular/core';
import { MatButtonModule } from '@angular/material/button';
import { MatIconModule } from '@angular/material/icon';
import { MatProgressBarModule } from '@angular/material/progress-bar';
import { MatTooltipModule } from '@angular/material/tooltip';
import { RouterLink } from '@angular/router';
import { formatBytes, type JobView } from '@app/shared';
import { isFinished, UploadItem } from './upload-item';

/**
 * One file of the upload tray: name, size, how its upload goes (a bar only while bytes move; a
 * waiting file shows no progress), then the job it became, followed live until it is done (with
 * its thumbnail) or failed (with why). A duplicate links to the job the user already has and can
 * be sent anyway.
 */
@Component({
  selector: 'app-upload-item',
  changeDetection: ChangeDetectionStrategy.OnPush,
  imports: [MatButtonModule, MatIconModule, MatProgressBarModule, MatTooltipModule, RouterLink],
  host: {
    'data-testid': 'upload-item',
    '[attr.data-state]': 'item().state',
    '[attr.data-job-status]': 'job()?.status ?? null',
  },
  templateUrl: './upload-item.component.html',
  styleUrl: './upload-item.component.scss',
})
export class UploadItemComponent {
  readonly item = input.required<UploadItem>();
  /** The job the upload made, as it is now. */
  readonly job = input<JobView | undefined>(undefined);
  readonly retry = output<void>();
  readonly cancelUpload = output<void>();
  readonly dismiss = output<void>();
  readonly pauseUpload = output<void>();
  readonly resumeUpload = output<void>();
  readonly uploadAnyway = output<void>();

  readonly name = computed(() => this.item().file.name);
  readonly folder = computed(() => this.item().folderPath);
  readonly size = computed(() => formatBytes(this.item().file.size));
  readonly percent = computed(() => {
    const { loaded, total, state } = this.item();
    if (state === 'done') return 100;
    return total > 0 ? Math.min(100, Math.round((loaded / total) * 100)) : 0;
  });
  /** Every byte sent, the answer not yet in: the server is checking and storing the file. */
  readonly serverWorking = computed(
    () => this.item().state === 'uploading' && this.item().loaded >= this.item().total && this.item().total > 0,
  );
  /** Only bytes on their way move a bar; waiting and paused files show none. */
  readonly showProgress = computed(() => this.item().state === 'uploading');
  readonly progressMode = computed(() => (this.serverWorking() ? 'indeterminate' : 'determinate'));
  readonly progressLabel = computed(() => `Upload of ${this.name()}`);
  readonly thumbnail = computed(() => (this.job()?.status === 'completed' ? this.job()!.thumbnailUrl : null));
  readonly statusText = computed(() => {
    const item = this.item();
    switch (item.state) {
      case 'waiting':
        return 'Waiting';
      case 'uploading':
        return this.serverWorking() ? 'Checking the file…' : `Uploading ${this.percent()}%`;
      case 'paused':
        return `Paused at ${this.percent()}%`;
      case 'done':
        return this.jobText();
      case 'rejected':
        return item.duplicateOf ? 'Already in your library' : 'Not accepted';
      case 'failed':
        return 'Upload failed';
      case 'cancelled':
        return 'Cancelled';
    }
  });
  readonly message = computed(() => {
    const item = this.item();
    if (item.state === 'done') return this.job()?.status === 'failed' ? (this.job()?.errorMessage ?? null) : null;
    return item.message;
  });
  readonly isProblem = computed(
    () =>
      this.item().state === 'rejected' ||
      this.item().state === 'failed' ||
      (this.item().state === 'done' && this.job()?.status === 'failed'),
  );
  readonly canCancel = computed(() => !isFinished(this.item()));
  readonly canPause = computed(() => this.item().resumable && this.item().state === 'uploading' && !this.serverWorking());
  readonly canResume = computed(() => this.item().state === 'paused');
  readonly canRetry = computed(() => this.item().state === 'failed' || this.item().state === 'cancelled');
  readonly canDismiss = computed(() => isFinished(this.item()));
  readonly duplicateOf = computed(() => this.item().duplicateOf);
  readonly icon = computed(() => (this.isProblem() ? 'error' : this.item().state === 'done' ? 'schedule' : 'upload'));
  /** The whole second line, for the tooltip of a line cut short. */
  readonly subTitle = computed(() => [this.statusText(), this.message() ?? this.size(), this.folder()].filter(Boolean).join(' · '));
  readonly existingLabel = computed(() => `See the ${this.name()} you already have`);
  readonly anywayLabel = computed(() => `Upload ${this.name()} anyway`);
  readonly cancelLabel = computed(() => `Cancel the upload of ${this.name()}`);
  readonly pauseLabel = computed(() => `Pause the upload of ${this.name()}`);
  readonly resumeLabel = computed(() => `Resume the upload of ${this.name()}`);
  readonly retryLabel = computed(() => `Upload ${this.name()} again`);
  readonly dismissLabel = computed(() => `Remove ${this.name()} from this list`);

  private jobText(): string {
    switch (this.job()?.status) {
      case 'processing':
        return 'Making the thumbnail…';
      case 'completed':
        return 'Done';
      case 'failed':
        return 'Uploaded, but no thumbnail';
      default:
        return 'Uploaded, queued for a thumbnail';
    }
  }
}
