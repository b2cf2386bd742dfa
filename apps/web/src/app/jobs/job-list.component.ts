import { ChangeDetectionStrategy, Component, computed, DestroyRef, inject } from '@angular/core';
import { takeUntilDestroyed } from '@angular/core/rxjs-interop';
import { MatButtonModule } from '@angular/material/button';
import { MatDialog } from '@angular/material/dialog';
import { MatIconModule } from '@angular/material/icon';
import { MatProgressBarModule } from '@angular/material/progress-bar';
import { MatSnackBar } from '@angular/material/snack-bar';
import { MatTooltipModule } from '@angular/material/tooltip';
import type { JobView } from '@app/shared';
import { filter, switchMap } from 'rxjs';
import { describeApiError } from '../http/api-error';
import { NearViewportDirective } from '../ui/near-viewport.directive';
import { ConfirmDialogComponent, ConfirmDialogData } from './confirm-dialog.component';
import { JobRowComponent } from './job-row.component';
import { JOB_STATUS_TEXT } from './job-status-text';
import { JobsStore } from './jobs.store';
import { StatusFilterComponent } from './status-filter.component';

/** The user's jobs from the {@link JobsStore}: filter, live rows, actions, older pages on demand. */
@Component({
  selector: 'app-job-list',
  changeDetection: ChangeDetectionStrategy.OnPush,
  imports: [
    MatButtonModule,
    MatIconModule,
    MatProgressBarModule,
    MatTooltipModule,
    JobRowComponent,
    StatusFilterComponent,
    NearViewportDirective,
  ],
  templateUrl: './job-list.component.html',
  styleUrl: './job-list.component.scss',
})
export class JobListComponent {
  readonly store = inject(JobsStore);
  private readonly dialog = inject(MatDialog);
  private readonly snackBar = inject(MatSnackBar);
  private readonly destroyRef = inject(DestroyRef);

  readonly rows = computed(() => {
    const busy = this.store.busyIds();
    return this.store.jobs().map((job) => ({ job, busy: busy.has(job.id) }));
  });
  readonly count = computed(() => {
    const shown = this.store.jobs().length;
    const more = this.store.hasMore() ? '+' : '';
    return `${shown}${more} ${shown === 1 && !more ? 'job' : 'jobs'}`;
  });
  readonly empty = computed(() => this.store.loaded() && !this.store.loading() && this.store.jobs().length === 0 && !this.store.error());
  readonly emptyText = computed(() => {
    const status = this.store.filter();
    return status === null
      ? 'No jobs yet. Drop images or videos above and watch them turn into thumbnails here.'
      : `No jobs with status “${JOB_STATUS_TEXT[status].label}”.`;
  });
  readonly loadMoreLabel = computed(() => (this.store.loadingMore() ? 'Loading…' : 'Show older jobs'));
  readonly showLoadMore = computed(() => this.store.hasMore() && this.store.loaded() && !this.store.error());

  retry(job: JobView): void {
    this.store
      .retry(job.id)
      .pipe(takeUntilDestroyed(this.destroyRef))
      .subscribe({
        next: () => this.notify(`“${job.originalFilename}” is queued again.`),
        error: (error: unknown) => this.notify(`Could not retry “${job.originalFilename}”: ${describeApiError(error).message}`),
      });
  }

  confirmDelete(job: JobView): void {
    const data: ConfirmDialogData = {
      title: 'Delete this job?',
      message: `“${job.originalFilename}”, its thumbnail and the uploaded file will be deleted. This cannot be undone.`,
      confirmLabel: 'Delete',
    };
    this.dialog
      .open<ConfirmDialogComponent, ConfirmDialogData, boolean>(ConfirmDialogComponent, {
        data,
        autoFocus: 'first-tabbable',
        restoreFocus: true,
      })
      .afterClosed()
      .pipe(
        filter((confirmed) => confirmed === true),
        switchMap(() => this.store.delete(job.id)),
        takeUntilDestroyed(this.destroyRef),
      )
      .subscribe({
        next: () => this.notify(`Deleted “${job.originalFilename}”.`),
        error: (error: unknown) => this.notify(`Could not delete “${job.originalFilename}”: ${describeApiError(error).message}`),
      });
  }

  private notify(message: string): void {
    this.snackBar.open(message, 'Close', { duration: 5000 });
  }
}
