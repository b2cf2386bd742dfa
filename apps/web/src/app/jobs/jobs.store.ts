import { computed, DestroyRef, inject, Injectable, signal } from '@angular/core';
import { takeUntilDestroyed } from '@angular/core/rxjs-interop';
import { isTerminalStatus, JobStatus, JobStatusEvent, JobView } from '@app/shared';
import {
  catchError,
  distinctUntilChanged,
  filter,
  finalize,
  map,
  mergeMap,
  Observable,
  of,
  skip,
  Subject,
  Subscription,
  tap,
  throwError,
  timer,
} from 'rxjs';
import { describeApiError } from '../http/api-error';
import { JobSocket } from '../realtime/job-socket';
import { JobMap, matchesFilter, mergeFirstPage, newestFirst, removeJob, upsertJobs } from './job-collection';
import { applyStatusEvent } from './job-events';
import { JobsApi } from './jobs-api.service';

/**
 * How long an event for a job we do not know waits before we ask the API for that job: the upload
 * that created it usually answers within this time and makes the request unnecessary.
 */
export const UNKNOWN_JOB_GRACE_MS = 400;
/** Single-job reads at once (resync, unknown jobs). */
const FETCH_CONCURRENCY = 4;

type Phase = 'idle' | 'loading' | 'loading-more';

/**
 * The user's jobs as signals: pages read from the API, jobs just uploaded, and live `job:status`
 * events on top.
 *
 * - Events never move a job backwards: one older than the job's `updatedAt` is ignored.
 * - An event for a job we do not hold makes us read that job (after a short grace period).
 * - After every reconnection the first page and every job still in flight are read again, so what
 *   happened while offline reaches the screen.
 * - The status filter is applied by the API when reading pages and to the jobs held, so a job that
 *   changes status leaves or joins a filtered list as it happens.
 *
 * Provided by the page that shows the jobs; it lives and dies with it.
 */
@Injectable()
export class JobsStore {
  private readonly api = inject(JobsApi);
  private readonly socket = inject(JobSocket);
  private readonly destroyRef = inject(DestroyRef);

  private readonly entities = signal<JobMap>(new Map());
  private readonly statusFilter = signal<JobStatus | null>(null);
  private readonly cursor = signal<string | null>(null);
  private readonly phase = signal<Phase>('idle');
  private readonly loadError = signal<{ message: string; more: boolean } | null>(null);
  private readonly busy = signal<ReadonlySet<string>>(new Set());
  private readonly everLoaded = signal(false);

  /** Jobs to show: those matching the filter, newest first. */
  readonly jobs = computed(() => {
    const status = this.statusFilter();
    return [...this.entities().values()].filter((job) => matchesFilter(job, status)).sort(newestFirst);
  });
  readonly filter = this.statusFilter.asReadonly();
  readonly hasMore = computed(() => this.cursor() !== null);
  readonly loading = computed(() => this.phase() === 'loading');
  readonly loadingMore = computed(() => this.phase() === 'loading-more');
  readonly loaded = this.everLoaded.asReadonly();
  readonly error = computed(() => this.loadError()?.message ?? null);
  /** Jobs with a retry or delete under way. */
  readonly busyIds = this.busy.asReadonly();

  /** Ids deleted here: late events for them must not bring them back. */
  private readonly deleted = new Set<string>();
  /** Events for jobs we are about to read, applied once the job is here. */
  private readonly waiting = new Map<string, JobStatusEvent[]>();
  private readonly fetching = new Set<string>();
  private readonly unknownJob$ = new Subject<string>();
  private readonly fetch$ = new Subject<string>();
  private readonly brokenThumbnails = new Set<string>();
  private pageLoad: Subscription | null = null;

  constructor() {
    this.socket.statusEvents$.pipe(takeUntilDestroyed()).subscribe((event) => this.onStatusEvent(event));

    // The state on subscription is skipped: connected already means the first read below is current.
    this.socket.state$
      .pipe(
        distinctUntilChanged(),
        skip(1),
        filter((state) => state === 'connected'),
        takeUntilDestroyed(),
      )
      .subscribe(() => this.resync());

    this.unknownJob$
      .pipe(
        mergeMap((id) => timer(UNKNOWN_JOB_GRACE_MS).pipe(map(() => id))),
        filter((id) => this.waiting.has(id) && !this.entities().has(id)),
        takeUntilDestroyed(),
      )
      .subscribe((id) => this.fetch(id));

    this.fetch$
      .pipe(
        mergeMap(
          (id) =>
            this.api.get(id).pipe(
              map((job): { id: string; job: JobView | null; gone: boolean } => ({ id, job, gone: false })),
              catchError((error: unknown) => of({ id, job: null, gone: describeApiError(error).status === 404 })),
              finalize(() => this.fetching.delete(id)),
            ),
          FETCH_CONCURRENCY,
        ),
        takeUntilDestroyed(),
      )
      .subscribe(({ id, job, gone }) => {
        if (job && !this.deleted.has(id)) this.commit(upsertJobs(this.entities(), [job]));
        else if (gone) this.forget(id);
        this.waiting.delete(id);
      });

    this.reload();
  }

  /** Shows only jobs with this status (null: all) and reads them from the start. */
  setFilter(status: JobStatus | null): void {
    if (status === this.statusFilter()) return;
    this.statusFilter.set(status);
    this.reload();
  }

  /** Reads the first page again (the list's "Refresh"). */
  reload(): void {
    this.pageLoad?.unsubscribe();
    const status = this.statusFilter();
    const heldBefore = new Set(this.entities().keys());
    this.phase.set('loading');
    this.loadError.set(null);
    this.pageLoad = this.api
      .list({ status })
      .pipe(takeUntilDestroyed(this.destroyRef))
      .subscribe({
        next: (page) => {
          this.commit(mergeFirstPage(this.entities(), page, { filter: status, heldBefore, dropOlder: true }));
          this.cursor.set(page.nextCursor);
          this.everLoaded.set(true);
          this.phase.set('idle');
        },
        error: (error: unknown) => {
          this.phase.set('idle');
          this.loadError.set({ message: describeApiError(error).message, more: false });
        },
      });
  }

  /** The next (older) page, when there is one and nothing else is loading. */
  loadMore(): void {
    const cursor = this.cursor();
    if (cursor === null || this.phase() !== 'idle') return;
    this.phase.set('loading-more');
    this.loadError.set(null);
    this.pageLoad = this.api
      .list({ status: this.statusFilter(), cursor })
      .pipe(takeUntilDestroyed(this.destroyRef))
      .subscribe({
        next: (page) => {
          this.commit(upsertJobs(this.entities(), page.items));
          this.cursor.set(page.nextCursor);
          this.phase.set('idle');
        },
        error: (error: unknown) => {
          this.phase.set('idle');
          this.loadError.set({ message: describeApiError(error).message, more: true });
        },
      });
  }

  /** Tries again whatever read failed last. */
  retryLoad(): void {
    if (this.loadError()?.more) this.loadMore();
    else this.reload();
  }

  /** Jobs created by an upload from this page. */
  addJobs(jobs: readonly JobView[]): void {
    this.commit(upsertJobs(this.entities(), jobs));
  }

  /** Queues a failed job again. The caller subscribes and reports errors. */
  retry(id: string): Observable<JobView> {
    this.setBusy(id, true);
    return this.api.retry(id).pipe(
      tap((job) => this.commit(upsertJobs(this.entities(), [job]))),
      catchError((error: unknown) => {
        const status = describeApiError(error).status;
        if (status === 404) this.forget(id);
        if (status === 409) this.fetch(id);
        return throwError(() => error);
      }),
      finalize(() => this.setBusy(id, false)),
    );
  }

  /** Deletes a job (already gone counts as done). The caller subscribes and reports errors. */
  delete(id: string): Observable<void> {
    this.setBusy(id, true);
    return this.api.delete(id).pipe(
      catchError((error: unknown) => (describeApiError(error).status === 404 ? of(undefined) : throwError(() => error))),
      tap(() => this.forget(id)),
      finalize(() => this.setBusy(id, false)),
    );
  }

  /** A thumbnail did not load (its signed URL may have expired): read the job once for a fresh URL. */
  thumbnailFailed(job: JobView): void {
    if (!job.thumbnailUrl || this.brokenThumbnails.has(job.thumbnailUrl)) return;
    this.brokenThumbnails.add(job.thumbnailUrl);
    this.fetch(job.id);
  }

  private onStatusEvent(event: JobStatusEvent): void {
    if (this.deleted.has(event.jobId)) return;
    const held = this.entities().get(event.jobId);
    if (held) {
      this.applyEvent(held, event);
      return;
    }
    const pending = this.waiting.get(event.jobId);
    if (pending) {
      pending.push(event);
      return;
    }
    // A job we do not hold that would not be shown anyway: wait for an event that would.
    const shown = this.statusFilter();
    if (shown !== null && event.status !== shown) return;
    this.waiting.set(event.jobId, [event]);
    this.unknownJob$.next(event.jobId);
  }

  private applyEvent(held: JobView, event: JobStatusEvent): void {
    const next = applyStatusEvent(held, event);
    if (next === held) return;
    const jobs = new Map(this.entities());
    jobs.set(next.id, next);
    this.entities.set(jobs);
    // Completed without signed URLs (should not happen): the API has them.
    if (next.status === 'completed' && !next.thumbnailUrl) this.fetch(next.id);
  }

  /** Reads the first page and every job still in flight again, after a reconnection. */
  private resync(): void {
    if (!this.everLoaded()) {
      if (this.phase() !== 'loading') this.reload();
      return;
    }
    const status = this.statusFilter();
    const heldBefore = new Set(this.entities().keys());
    this.api
      .list({ status })
      .pipe(takeUntilDestroyed(this.destroyRef))
      .subscribe({
        next: (page) => {
          if (status !== this.statusFilter()) return;
          this.commit(mergeFirstPage(this.entities(), page, { filter: status, heldBefore, dropOlder: false }));
          const inPage = new Set(page.items.map((job) => job.id));
          for (const job of this.entities().values()) {
            if (!isTerminalStatus(job.status) && !inPage.has(job.id)) this.fetch(job.id);
          }
        },
        // Nothing to show: the next reconnection or a refresh tries again.
        error: () => undefined,
      });
  }

  private fetch(id: string): void {
    if (this.fetching.has(id) || this.deleted.has(id)) return;
    this.fetching.add(id);
    this.fetch$.next(id);
  }

  private forget(id: string): void {
    this.deleted.add(id);
    this.waiting.delete(id);
    this.entities.set(removeJob(this.entities(), id));
  }

  /** New jobs in; events that were waiting for any of them are applied now. */
  private commit(next: JobMap): void {
    this.entities.set(next);
    for (const [id, events] of [...this.waiting]) {
      const held = next.get(id);
      if (!held) continue;
      this.waiting.delete(id);
      for (const event of events) this.applyEvent(this.entities().get(id) ?? held, event);
    }
  }

  private setBusy(id: string, busy: boolean): void {
    this.busy.update((ids) => {
      const next = new Set(ids);
      if (busy) next.add(id);
      else next.delete(id);
      return next;
    });
  }
}
