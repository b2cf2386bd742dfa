import { ChangeDetectionStrategy, Component, computed, input, output } from '@angular/core';
import { MatButtonModule } from '@angular/material/button';
import { MatIconModule } from '@angular/material/icon';
import { MatProgressBarModule } from '@angular/material/progress-bar';
import { MatTooltipModule } from '@angular/material/tooltip';
import { formatBytes } from '../ui/format-bytes';
import { isFinished, UploadItem } from './upload-item';

/** One file on its way up: name, size, a progress bar, and the outcome next to it. */
@Component({
  selector: 'app-upload-item',
  changeDetection: ChangeDetectionStrategy.OnPush,
  imports: [MatButtonModule, MatIconModule, MatProgressBarModule, MatTooltipModule],
  host: {
    'data-testid': 'upload-item',
    '[attr.data-state]': 'item().state',
  },
  templateUrl: './upload-item.component.html',
  styleUrl: './upload-item.component.scss',
})
export class UploadItemComponent {
  readonly item = input.required<UploadItem>();
  readonly retry = output<void>();
  readonly cancelUpload = output<void>();
  readonly dismiss = output<void>();

  readonly name = computed(() => this.item().file.name);
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
  readonly showProgress = computed(() => !isFinished(this.item()));
  readonly progressMode = computed(() => (this.item().state === 'waiting' || this.serverWorking() ? 'indeterminate' : 'determinate'));
  readonly progressLabel = computed(() => `Upload of ${this.name()}`);
  readonly statusText = computed(() => {
    switch (this.item().state) {
      case 'waiting':
        return 'Waiting…';
      case 'uploading':
        return this.serverWorking() ? 'Checking the file…' : `Uploading ${this.percent()}%`;
      case 'done':
        return 'Uploaded, queued for a thumbnail';
      case 'rejected':
        return 'Not accepted';
      case 'failed':
        return 'Upload failed';
      case 'cancelled':
        return 'Cancelled';
    }
  });
  readonly message = computed(() => this.item().message);
  readonly isProblem = computed(() => this.item().state === 'rejected' || this.item().state === 'failed');
  readonly canCancel = computed(() => this.showProgress());
  readonly canRetry = computed(() => this.item().state === 'failed' || this.item().state === 'cancelled');
  readonly canDismiss = computed(() => !this.showProgress());
  readonly cancelLabel = computed(() => `Cancel the upload of ${this.name()}`);
  readonly retryLabel = computed(() => `Upload ${this.name()} again`);
  readonly dismissLabel = computed(() => `Remove ${this.name()} from this list`);
}
