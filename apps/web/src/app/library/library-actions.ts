import { DOCUMENT, inject, Injectable } from '@angular/core';
import type { JobView } from '@app/shared';
import { filter, from, Observable, switchMap } from 'rxjs';
import { describeApiError } from '../http/api-error';
import { ServerFeatures } from '../http/server-features';
import type { ConfirmDialogData } from '../jobs/confirm-dialog.component';
import { canRetry } from '../jobs/job-media';
import { ArchiveContent, BulkResult, JobsApi, MAX_ARCHIVE_IDS } from '../jobs/jobs-api.service';
import { JobsStore } from '../jobs/jobs.store';
import { Overlays } from '../ui/overlays';

/** How long a message with Undo stays. */
export const UNDO_MS = 8000;

/** "“a.jpg”" for one job, "3 jobs" for more. */
export function describeJobs(jobs: readonly Pick<JobView, 'originalFilename'>[]): string {
  return jobs.length === 1 ? `“${jobs[0].originalFilename}”` : `${jobs.length} jobs`;
}

/**
 * What the library and the viewer do to jobs, with one confirmation or one message for many:
 * delete (to the trash with Undo where the server has one; otherwise confirmed first, because it
 * cannot be undone), retry (only what a retry can help), restore, delete for good, empty the
 * trash, download as a zip. Provided by the page with its {@link JobsStore}.
 */
@Injectable()
export class LibraryActions {
  private readonly store = inject(JobsStore);
  private readonly api = inject(JobsApi);
  private readonly features = inject(ServerFeatures);
  private readonly overlays = inject(Overlays);
  private readonly document = inject(DOCUMENT);

  /** Deletes jobs; `done` runs once they are gone (the viewer moves on). */
  delete(jobs: readonly JobView[], done?: () => void): void {
    if (jobs.length === 0) return;
    const ids = jobs.map((job) => job.id);
    if (this.features.trash()) {
      this.run(this.store.bulk('delete', ids), jobs, 'delete', (result) => {
        done?.();
        this.offerUndo(jobs.filter((job) => result.done.includes(job.id)));
      });
      return;
    }
    const one = jobs.length === 1;
    this.confirm({
      title: one ? 'Delete this job?' : `Delete ${jobs.length} jobs?`,
      message: one
        ? `${describeJobs(jobs)}, its thumbnail and the uploaded file will be deleted. This cannot be undone.`
        : `These ${jobs.length} jobs, their thumbnails and the uploaded files will be deleted. This cannot be undone.`,
      confirmLabel: 'Delete',
    })
      .pipe(switchMap(() => this.store.bulk('delete', ids)))
      .subscribe({
        next: (result) => {
          if (result.done.length > 0) done?.();
          this.report(result, jobs, 'delete', `Deleted ${describeJobs(jobs.filter((job) => result.done.includes(job.id)))}.`);
        },
        error: (error: unknown) => this.notify(`Could not delete ${describeJobs(jobs)}: ${describeApiError(error).message}`),
      });
  }

  /** Queues failed jobs again; those a retry cannot help are left out (and said so). */
  retry(jobs: readonly JobView[]): void {
    const retryable = jobs.filter(canRetry);
    if (retryable.length === 0) {
      this.notify('Retrying will not help these: upload the complete files again.');
      return;
    }
    this.run(
      this.store.bulk(
        'retry',
        retryable.map((job) => job.id),
      ),
      retryable,
      'retry',
      (result) => {
        const queued = retryable.filter((job) => result.done.includes(job.id));
        this.report(result, retryable, 'retry', `${describeJobs(queued)} ${queued.length === 1 ? 'is' : 'are'} queued again.`);
      },
    );
  }

  /** Out of the trash. */
  restore(jobs: readonly JobView[]): void {
    this.run(
      this.store.bulk(
        'restore',
        jobs.map((job) => job.id),
      ),
      jobs,
      'restore',
      (result) => {
        this.report(result, jobs, 'restore', `Restored ${describeJobs(jobs.filter((job) => result.done.includes(job.id)))}.`);
      },
    );
  }

  /** For good, after one confirmation. */
  deleteForever(jobs: readonly JobView[]): void {
    if (jobs.length === 0) return;
    this.confirm({
      title: jobs.length === 1 ? 'Delete for good?' : `Delete ${jobs.length} jobs for good?`,
      message: `${describeJobs(jobs)} and ${jobs.length === 1 ? 'its files' : 'their files'} will be deleted. This cannot be undone.`,
      confirmLabel: 'Delete for good',
    })
      .pipe(switchMap(() => this.store.deleteForever(jobs.map((job) => job.id))))
      .subscribe({
        next: (result) =>
          this.report(result, jobs, 'delete', `Deleted ${describeJobs(jobs.filter((job) => result.done.includes(job.id)))} for good.`),
        error: (error: unknown) => this.notify(`Could not delete: ${describeApiError(error).message}`),
      });
  }

  /** Everything in the trash, for good, after one confirmation. */
  emptyTrash(): void {
    this.confirm({
      title: 'Empty the trash?',
      message: 'Everything in the trash and its files will be deleted. This cannot be undone.',
      confirmLabel: 'Empty trash',
    })
      .pipe(
        switchMap(() => this.store.allIds()),
        switchMap((ids) => this.store.deleteForever(ids)),
      )
      .subscribe({
        next: (result) =>
          this.notify(result.skipped.length === 0 ? 'The trash is empty.' : `${result.skipped.length} could not be deleted. Try again.`),
        error: (error: unknown) => this.notify(`Could not empty the trash: ${describeApiError(error).message}`),
      });
  }

  /** A zip of the jobs' thumbnails or originals, downloaded by the browser from its signed URL. */
  download(jobs: readonly JobView[], content: ArchiveContent): void {
    const wanted = content === 'thumbnails' ? jobs.filter((job) => job.status === 'completed') : jobs;
    if (wanted.length === 0) {
      this.notify('None of these has a thumbnail yet.');
      return;
    }
    if (wanted.length > MAX_ARCHIVE_IDS) {
      this.notify(`A zip holds at most ${MAX_ARCHIVE_IDS} jobs: select fewer.`);
      return;
    }
    this.notify(`Preparing a zip of ${describeJobs(wanted)}…`);
    this.api
      .archive(
        wanted.map((job) => job.id),
        content,
      )
      .subscribe({
        next: (archive) => {
          const link = this.document.createElement('a');
          link.href = archive.url;
          link.download = '';
          link.rel = 'noopener';
          this.document.body.appendChild(link);
          link.click();
          link.remove();
        },
        error: (error: unknown) => this.notify(`Could not make the zip: ${describeApiError(error).message}`),
      });
  }

  private offerUndo(jobs: readonly JobView[]): void {
    if (jobs.length === 0) return;
    void this.overlays.notify(`Moved ${describeJobs(jobs)} to the trash.`, 'Undo', UNDO_MS).then((undo) => undo && this.restore(jobs));
  }

  private run(action: Observable<BulkResult>, jobs: readonly JobView[], verb: string, next: (result: BulkResult) => void): void {
    action.subscribe({
      next,
      error: (error: unknown) => this.notify(`Could not ${verb} ${describeJobs(jobs)}: ${describeApiError(error).message}`),
    });
  }

  /** The outcome in one message: what was done, and what was not and why. */
  private report(result: BulkResult, jobs: readonly JobView[], verb: string, success: string): void {
    if (result.skipped.length === 0) {
      this.notify(success);
      return;
    }
    const names = new Map(jobs.map((job) => [job.id, job.originalFilename]));
    const first = result.skipped[0];
    const why = first.reason === 'not_found' ? 'it is gone' : first.reason === 'conflict' ? 'its status changed' : first.reason;
    const start = result.done.length > 0 ? `${success} ` : '';
    this.notify(
      `${start}Could not ${verb} ${result.skipped.length === 1 ? `“${names.get(first.id) ?? first.id}”` : `${result.skipped.length} jobs`} (${why}).`,
    );
  }

  private confirm(data: ConfirmDialogData): Observable<true> {
    return from(this.overlays.confirm(data)).pipe(filter((confirmed): confirmed is true => confirmed));
  }

  private notify(message: string): void {
    void this.overlays.notify(message);
  }
}
