import { ScrollingModule } from '@angular/cdk/scrolling';
import { ChangeDetectionStrategy, Component, computed, effect, inject, signal, untracked } from '@angular/core';
import { MatButtonModule } from '@angular/material/button';
import { MatIconModule } from '@angular/material/icon';
import { MatProgressBarModule } from '@angular/material/progress-bar';
import { MatTooltipModule } from '@angular/material/tooltip';
import { formatDuration } from '../ui/format-duration';
import { UploadItemComponent } from './upload-item.component';
import type { UploadItem } from './upload-item';
import { formatBytes, type JobView } from '@app/shared';
import { UploadQueue } from './upload-queue';

/** Rows of the tray, pixels (fixed: the list is virtualised for folders of thousands). */
export const TRAY_ROW_PX = 60;
/** Rows shown before the list scrolls. */
const VISIBLE_ROWS = 5;
/** The tray folds away this long after everything has finished. */
export const FOLD_AFTER_MS = 4000;

/**
 * The upload tray, in a corner like the best photo apps': overall progress (files uploaded of all,
 * bytes, time left), each file and then its job live, cancel one or all, and it folds away once
 * everything has finished (it stays there, folded, until closed). Above the floating button on
 * phones.
 */
@Component({
  selector: 'app-upload-tray',
  changeDetection: ChangeDetectionStrategy.OnPush,
  imports: [ScrollingModule, MatButtonModule, MatIconModule, MatProgressBarModule, MatTooltipModule, UploadItemComponent],
  host: { '[class.hidden]': '!visible()' },
  templateUrl: './upload-tray.component.html',
  styleUrl: './upload-tray.component.scss',
})
export class UploadTrayComponent {
  readonly queue = inject(UploadQueue);

  readonly expanded = signal(true);
  readonly rowHeight = TRAY_ROW_PX;
  readonly summary = this.queue.summary;
  readonly items = this.queue.items;
  readonly visible = computed(() => this.items().length > 0);
  readonly listHeight = computed(() => Math.min(this.items().length, VISIBLE_ROWS) * TRAY_ROW_PX);
  readonly percent = computed(() => {
    const { bytesLoaded, bytesTotal } = this.summary();
    return bytesTotal > 0 ? Math.round((bytesLoaded / bytesTotal) * 100) : 0;
  });
  readonly title = computed(() => {
    const s = this.summary();
    if (s.active > 0) return `Uploading · ${s.uploaded} of ${s.files} done`;
    if (s.processing > 0) return `${s.uploaded} uploaded · ${s.processing} being processed`;
    const parts = [`${s.uploaded} uploaded`];
    if (s.jobsFailed > 0) parts.push(`${s.jobsFailed} failed`);
    if (s.problems > 0) parts.push(`${s.problems} not uploaded`);
    return parts.join(' · ');
  });
  readonly detail = computed(() => {
    const s = this.summary();
    if (s.active === 0) return null;
    const bytes = `${formatBytes(s.bytesLoaded)} of ${formatBytes(s.bytesTotal)}`;
    return s.secondsLeft === null ? bytes : `${bytes} · about ${formatDuration(s.secondsLeft)} left`;
  });
  readonly skippedNote = computed(() => {
    const skipped = this.queue.skipped();
    if (skipped === 0) return null;
    return `${skipped} ${skipped === 1 ? 'file' : 'files'} in the folder left out: not images or videos.`;
  });

  constructor() {
    // Opens when new files come; folds away a moment after everything has finished.
    let timer: ReturnType<typeof setTimeout> | null = null;
    effect((onCleanup) => {
      const settled = this.summary().settled;
      const count = this.items().length;
      untracked(() => {
        if (!settled) this.expanded.set(true);
        else if (count > 0) timer = setTimeout(() => this.expanded.set(false), FOLD_AFTER_MS);
      });
      onCleanup(() => {
        if (timer !== null) clearTimeout(timer);
        timer = null;
      });
    });
  }

  toggle(): void {
    this.expanded.update((open) => !open);
  }

  trackItem = (_index: number, item: UploadItem): string => item.id;

  /** The job an upload made, as it is now. */
  jobOf(item: UploadItem): JobView | undefined {
    const id = item.jobIds.at(0);
    return id === undefined ? undefined : this.queue.jobs().get(id);
  }
}
