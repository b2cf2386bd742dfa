import { computed, DestroyRef, inject, Injectable, signal } from '@angular/core';
import { takeUntilDestroyed } from '@angular/core/rxjs-interop';
import { isTerminalStatus, JobPage, JobStatus, JobStatusEvent, JobView } from '@app/shared';
import {
  auditTime,
  catchError,
  concatMap,
  distinctUntilChanged,
  EMPTY,
  expand,
  filter,
  finalize,
  from,
  map,
  merge,
  mergeMap,
  Observable,
  of,
  reduce,
  skip,
  startWith,
  Subject,
  Subscription,
  switchMap,
  take,
  tap,
  throwError,
  timer,
  toArray,
} from 'rxjs';
import { describeApiError } from '../http/api-error';
import { ServerFeatures } from '../http/server-features';
import { JobSocket } from '../realtime/job-socket';
import { JobMap, mergeFirstPage, removeJob, upsertJobs } from './job-collection';
import { CountedAs, countedAs, moveCount } from './job-counts';
import { applyStatusEvent } from './job-events';
import { hasRenditions } from './job-media';
import { DEFAULT_QUERY, JobQuery, matchesQuery, sameQuery, sortJobs } from './job-query';
import { BulkAction, BulkResult, JobsApi, JobStats, MAX_BULK_IDS } from './jobs-api.service';

/**
 * How long an event for a job we do not know waits before we ask the API for that job: the upload
 * that created it usually answers within this time and makes the request unnecessary.
 */
export const UNKNOWN_JOB_GRACE_MS = 400;
/** Single-job reads (and single-job actions where the server has no bulk route) at once. */
const FETCH_CONCURRENCY = 4;
/** Counts are read again at most this often while jobs change. */
export const STATS_REFRESH_MS = 1500;
/** The socket's first connection within this long of the page opening reads only the jobs in flight again. */
export const FIRST_CONNECTION_MS = 10_000;
/** Jobs per page (the API's maximum: fewer round trips through a large library). */
export const PAGE_SIZE = 200;

type Phase = 'idle' | 'loading' | 'loading-more';

/**
 * The user's jobs as signals: pages read from the API, jobs just uploaded, and live `job:status`
 * events on top.
 *
 * - Events never move a job backwards: one older than the job's `updatedAt` is ignored.
 * - An event for a job we do not hold makes us read that job (after a short grace period).
 * - After every reconnection, and when the server says it may have missed changes (`jobs:resync`),
 *   the first page and every job still in flight are read again, so what happened meanwhile
 *   reaches the screen. The socket's first connection, when it comes after the first read, reads
 *   only the jobs in flight again.
 * - The query (status, type, name, order; library or trash) is applied by the API when reading
 *   pages and to the jobs held, so a job that changes status leaves or joins a filtered list as it
 *   happens.
 * - Counts come from `GET /api/jobs/stats` where the server has it, read again as jobs change;
 *   meanwhile they follow what the list shows (a status change, an upload, a delete, a restore)
 *   in the same change, so the header never lags the grid.
 * - Actions on many jobs use `POST /api/jobs/bulk` where the server has it, else one request each.
 *
 * Provided by the page that shows the jobs; it lives and dies with it.
 */
@Injectable()
export class JobsStore {
  private readonly api = inject(JobsApi);
  private readonly socket = inject(JobSocket);
  private readonly features = inject(ServerFeatures);
  private readonly destroyRef = inject(DestroyRef);

  private readonly entities = signal<JobMap>(new Map());
  private readonly currentQuery = signal<JobQuery>(DEFAULT_QUERY);
  private readonly cursor = signal<string | null>(null);
  private readonly phase = signal<Phase>('idle');
  private readonly loadError = signal<{ message: string; more: boolean } | null>(null);
  private readonly busy = signal<ReadonlySet<string>>(new Set());
  private readonly everLoaded = signal(false);
  private readonly latestStats = signal<JobStats | null>(null);
  private readonly goneIds = signal<ReadonlySet<string>>(new Set());

  /** Jobs to show: those matching the query, in its order. */
  readonly jobs = computed(() => {
    const query = this.currentQuery();
    return sortJobs(
      [...this.entities().values()].filter((job) => matchesQuery(job, query)),
      query.sort,
    );
  });
  readonly query = this.currentQuery.asReadonly();
  readonly filter = computed(() => this.currentQuery().status);
  readonly hasMore = computed(() => this.cursor() !== null);
  readonly loading = computed(() => this.phase() === 'loading');
  readonly loadingMore = computed(() => this.phase() === 'loading-more');
  readonly loaded = this.everLoaded.asReadonly();
  readonly error = computed(() => this.loadError()?.message ?? null);
  /** Jobs with a retry, delete or restore under way. */
  readonly busyIds = this.busy.asReadonly();
  /** Counts from the server, or null where it has no stats (or they are not in yet). */
  readonly stats = this.latestStats.asReadonly();
  /** Jobs found deleted or missing (a deep link to one shows that it is gone). */
  readonly gone = this.goneIds.asReadonly();
  /** How many jobs the current query matches on the server, when the counts say. */
  readonly total = computed(() => totalFor(this.latestStats(), this.currentQuery()));

  /** Ids deleted here: late events for them must not bring them back. */
  private readonly deleted = new Set<string>();
  /** The jobs deleted here as they were, for the counts when one is restored (Undo). */
  private readonly forgotten = new Map<string, JobView>();
  /** Events for jobs we are about to read, applied once the job is here. */
  private readonly waiting = new Map<string, JobStatusEvent[]>();
  private readonly fetching = new Set<string>();
  private readonly unknownJob$ = new Subject<string>();
  private readonly fetch$ = new Subject<string>();
  private readonly statsChanged$ = new Subject<void>();
  /** When this store was made (the page opened), for telling the socket's first connection from a late one. */
  private readonly openedAt = Date.now();
  private readonly brokenThumbnails = new Set<string>();
  private pageLoad: Subscription | null = null;
  /**
   * This server makes renditions (a job has come with one; or its document says so, which a new
   * account's first uploads need): finished jobs are read again for theirs.
   */
  private renditions = false;

  constructor() {
    this.socket.statusEvents$.pipe(takeUntilDestroyed()).subscribe((event) => this.onStatusEvent(event));

    // The state on subscription is skipped: connected already means the first read below is current.
    // The first connection after it (the page opened while the socket was still connecting) is no
    // reconnection: all that can have been missed is a job in flight that moved on between the
    // first read's answer and the connection, so those are read again, not the first page (it
    // was read twice at every start). Every later connection follows a drop; the server asks too
    // when its own Redis subscription was lost and is back (events missed).
    merge(
      this.socket.state$.pipe(
        distinctUntilChanged(),
        skip(1),
        filter((state) => state === 'connected'),
        // Only soon after the page opened: a first connection that took longer (the api restarting
        // as the page loaded) may have missed anything, so it reads the first page again.
        map((_, index) => index === 0 && Date.now() - this.openedAt < FIRST_CONNECTION_MS),
      ),
      this.socket.resync$.pipe(map(() => false)),
    )
      .pipe(takeUntilDestroyed())
      .subscribe((first) => this.resync(first));

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
        if (job && !this.deleted.has(id)) this.commit(upsertJobs(this.entities(), [job]), [job]);
        else if (gone) this.forget(id);
        this.waiting.delete(id);
      });

    // Counts, where the server keeps them: now, then again (at most every STATS_REFRESH_MS) as jobs change.
    this.features.features$
      .pipe(
        take(1),
        filter((features) => features.stats),
        switchMap(() => this.statsChanged$.pipe(auditTime(STATS_REFRESH_MS), startWith(undefined))),
        switchMap(() => this.api.stats().pipe(catchError(() => EMPTY))),
        takeUntilDestroyed(),
      )
      .subscribe((stats) => this.latestStats.set(stats));

    this.reload();
  }

  /** Shows only jobs with this status (null: all) and reads them from the start. */
  setFilter(status: JobStatus | null): void {
    this.setQuery({ status });
  }

  /** Changes what the list shows and reads it from the start (nothing happens when nothing changes). */
  setQuery(changes: Partial<JobQuery>): void {
    const next = { ...this.currentQuery(), ...changes };
    if (sameQuery(next, this.currentQuery())) return;
    this.currentQuery.set(next);
    this.reload();
  }

  /** Reads the first page again (the list's "Refresh"). */
  reload(): void {
    this.pageLoad?.unsubscribe();
    const query = this.currentQuery();
    const heldBefore = new Set(this.entities().keys());
    this.phase.set('loading');
    this.loadError.set(null);
    this.pageLoad = this.api
      .list({ ...query, limit: PAGE_SIZE })
      .pipe(takeUntilDestroyed(this.destroyRef))
      .subscribe({
        next: (page) => {
          this.commit(mergeFirstPage(this.entities(), page, { query, heldBefore, dropOlder: true }), page.items);
          this.cursor.set(page.nextCursor);
          this.everLoaded.set(true);
          this.phase.set('idle');
        },
        error: (error: unknown) => {
          this.phase.set('idle');
          this.loadError.set({ message: describeApiError(error).message, more: false });
        },
      });
    this.statsChanged$.next();
  }

  /** The next page, when there is one and nothing else is loading. */
  loadMore(): void {
    const cursor = this.cursor();
    if (cursor === null || this.phase() !== 'idle') return;
    this.phase.set('loading-more');
    this.loadError.set(null);
    this.pageLoad = this.api
      .list({ ...this.currentQuery(), cursor, limit: PAGE_SIZE })
      .pipe(takeUntilDestroyed(this.destroyRef))
      .subscribe({
        next: (page) => {
          this.commit(upsertJobs(this.entities(), page.items), page.items);
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

  /** Every id the current query matches on the server, read page by page (to empty the trash). */
  allIds(): Observable<string[]> {
    const query = this.currentQuery();
    const page = (cursor: string | null): Observable<JobPage> => this.api.list({ ...query, cursor, limit: PAGE_SIZE });
    return page(null).pipe(
      expand((result) => (result.nextCursor ? page(result.nextCursor) : EMPTY)),
      reduce<JobPage, string[]>((ids, result) => [...ids, ...result.items.map((job) => job.id)], []),
    );
  }

  /** A held job, or undefined. */
  job(id: string): JobView | undefined {
    return this.entities().get(id);
  }

  /** Reads a job that is not held (a deep link to it), unless it was deleted here. */
  ensure(id: string): void {
    if (!this.entities().has(id)) this.fetch(id);
  }

  /** Jobs created by an upload from this page. */
  addJobs(jobs: readonly JobView[]): void {
    for (const job of jobs) if (!this.entities().has(job.id) && !this.deleted.has(job.id)) this.count(null, countedAs(job));
    this.commit(upsertJobs(this.entities(), jobs), jobs);
    this.statsChanged$.next();
  }

  /** Queues a failed job again. The caller subscribes and reports errors. */
  retry(id: string): Observable<JobView> {
    this.setBusy([id], true);
    return this.api.retry(id).pipe(
      tap((job) => this.commit(upsertJobs(this.entities(), [job]), [job])),
      catchError((error: unknown) => {
        const status = describeApiError(error).status;
        if (status === 404) this.forget(id);
        if (status === 409) this.fetch(id);
        return throwError(() => error);
      }),
      finalize(() => {
        this.setBusy([id], false);
        this.statsChanged$.next();
      }),
    );
  }

  /**
   * Deletes a job (already gone counts as done): to the trash where the server has one, else for
   * good; `permanent` skips the trash. The caller subscribes and reports errors.
   */
  delete(id: string, permanent = false): Observable<void> {
    this.setBusy([id], true);
    return this.api.delete(id, permanent).pipe(
      catchError((error: unknown) => (describeApiError(error).status === 404 ? of(undefined) : throwError(() => error))),
      tap(() => this.forget(id, permanent || !this.features.trash() ? 'gone' : 'trash')),
      finalize(() => {
        this.setBusy([id], false);
        this.statsChanged$.next();
      }),
    );
  }

  /**
   * One action on many jobs: `POST /api/jobs/bulk` in chunks where the server has it, else one
   * request per job (a few at a time). Ids that could not be acted on come back in `skipped`.
   * The jobs held here follow: deleted ones leave, retried ones are read again, restored ones
   * leave the trash or come back to the library.
   */
  bulk(action: BulkAction, ids: readonly string[]): Observable<BulkResult> {
    const unique = [...new Set(ids)];
    if (unique.length === 0) return of({ done: [], skipped: [] });
    this.setBusy(unique, true);
    const run = this.features.bulk() ? this.bulkRequests(action, unique) : this.singleRequests(action, unique);
    return run.pipe(
      tap((result) => this.afterBulk(action, result, false)),
      finalize(() => {
        this.setBusy(unique, false);
        this.statsChanged$.next();
      }),
    );
  }

  /** Removes jobs and their files for good, skipping the trash (the trash's "Delete forever"); one request each. */
  deleteForever(ids: readonly string[]): Observable<BulkResult> {
    const unique = [...new Set(ids)];
    this.setBusy(unique, true);
    return this.singleRequests('delete', unique, true).pipe(
      tap((result) => this.afterBulk('delete', result, true)),
      finalize(() => {
        this.setBusy(unique, false);
        this.statsChanged$.next();
      }),
    );
  }

  /** A thumbnail did not load (its signed URL may have expired): read the job once for a fresh URL. */
  thumbnailFailed(job: JobView): void {
    if (!job.thumbnailUrl || this.brokenThumbnails.has(job.thumbnailUrl)) return;
    this.brokenThumbnails.add(job.thumbnailUrl);
    this.fetch(job.id);
  }

  private bulkRequests(action: BulkAction, ids: string[]): Observable<BulkResult> {
    const chunks: string[][] = [];
    for (let i = 0; i < ids.length; i += MAX_BULK_IDS) chunks.push(ids.slice(i, i + MAX_BULK_IDS));
    return from(chunks).pipe(
      concatMap((chunk) => this.api.bulk(action, chunk)),
      reduce<BulkResult, BulkResult>(
        (all, result) => ({ done: [...all.done, ...result.done], skipped: [...all.skipped, ...result.skipped] }),
        {
          done: [],
          skipped: [],
        },
      ),
    );
  }

  private singleRequests(action: BulkAction, ids: string[], permanent = false): Observable<BulkResult> {
    const one = (id: string): Observable<unknown> =>
      action === 'delete' ? this.api.delete(id, permanent) : action === 'retry' ? this.api.retry(id) : this.api.restore(id);
    return from(ids).pipe(
      mergeMap(
        (id) =>
          one(id).pipe(
            map((answer) => ({ id, answer, reason: null as string | null })),
            catchError((error: unknown) => {
              const problem = describeApiError(error);
              // Already gone is what a delete wanted.
              if (problem.status === 404 && action === 'delete') return of({ id, answer: undefined, reason: null });
              const reason = problem.status === 404 ? 'not_found' : problem.status === 409 ? 'conflict' : problem.message;
              return of({ id, answer: undefined, reason });
            }),
          ),
        FETCH_CONCURRENCY,
      ),
      tap(({ answer }) => {
        if (isJob(answer)) this.commit(upsertJobs(this.entities(), [answer]), [answer]);
      }),
      toArray(),
      map((results) => ({
        done: results.filter((result) => result.reason === null).map((result) => result.id),
        skipped: results.flatMap((result) => (result.reason === null ? [] : [{ id: result.id, reason: result.reason }])),
      })),
    );
  }

  private afterBulk(action: BulkAction, result: BulkResult, permanent: boolean): void {
    const inTrash = this.currentQuery().trashed;
    const deletedTo = permanent || inTrash || !this.features.trash() ? 'gone' : 'trash';
    for (const id of result.done) {
      if (action === 'delete') this.forget(id, deletedTo);
      else if (action === 'restore' && inTrash) this.forget(id, 'library');
      else if (action === 'restore') {
        // Back in the library (an undo): events for it count again, and it counts there at once.
        const was = this.forgotten.get(id);
        if (was && this.deleted.has(id)) this.count({ job: was, trashed: true }, { job: was, trashed: false });
        this.forgotten.delete(id);
        this.deleted.delete(id);
        this.goneIds.update((ids) => {
          const next = new Set(ids);
          next.delete(id);
          return next;
        });
        if (!this.entities().has(id)) this.fetch(id);
      }
      // Retried jobs: their `queued` events follow.
    }
    for (const { id, reason } of result.skipped) if (reason === 'not_found') this.forget(id);
  }

  private onStatusEvent(event: JobStatusEvent): void {
    if (this.deleted.has(event.jobId)) return;
    const held = this.entities().get(event.jobId);
    if (held) {
      this.applyEvent(held, event);
      return;
    }
    // The trash shows no jobs that are still changing.
    if (this.currentQuery().trashed) return;
    const pending = this.waiting.get(event.jobId);
    if (pending) {
      pending.push(event);
      return;
    }
    // A job we do not hold that would not be shown anyway: wait for an event that would.
    const shown = this.currentQuery().status;
    if (shown !== null && event.status !== shown) return;
    this.waiting.set(event.jobId, [event]);
    this.unknownJob$.next(event.jobId);
  }

  private applyEvent(held: JobView, event: JobStatusEvent): void {
    const next = applyStatusEvent(held, event);
    if (next === held) return;
    if (next.status !== held.status) this.count(countedAs(held), countedAs(next));
    const jobs = new Map(this.entities());
    jobs.set(next.id, next);
    this.entities.set(jobs);
    this.statsChanged$.next();
    // Completed without signed URLs (should not happen): the API has them. Where the server makes
    // renditions, a finished job has more than its event carries (2x, preview, ThumbHash, size): read it.
    if (next.status === 'completed' && !next.thumbnailUrl) this.fetch(next.id);
    else if (next.status === 'completed' && held.status !== 'completed' && (this.renditions || this.features.renditions()))
      this.fetch(next.id);
  }

  /**
   * Reads the first page and every job still in flight again, after a reconnection; after the
   * first connection (`first`), only the jobs in flight.
   */
  private resync(first: boolean): void {
    // A read that failed while the server was away ("Cannot reach the server"): read it again now,
    // which clears the message.
    const failed = this.loadError();
    if (!this.everLoaded() || (failed && !failed.more)) {
      if (this.phase() === 'idle') this.retryLoad();
      return;
    }
    // A next page that failed meanwhile is read again too, beside the first page below.
    if (failed?.more && this.phase() === 'idle') this.loadMore();
    // After the first connection, a few jobs in flight are read one by one; many (a large upload
    // under way) are cheaper to read as the first page again, like after a drop.
    const inFlight = [...this.entities().values()].filter((job) => !isTerminalStatus(job.status));
    if (first && inFlight.length <= FETCH_CONCURRENCY) {
      for (const job of inFlight) this.fetch(job.id);
      return;
    }
    const query = this.currentQuery();
    const heldBefore = new Set(this.entities().keys());
    this.api
      .list({ ...query, limit: PAGE_SIZE })
      .pipe(takeUntilDestroyed(this.destroyRef))
      .subscribe({
        next: (page) => {
          if (!sameQuery(query, this.currentQuery())) return;
          this.commit(mergeFirstPage(this.entities(), page, { query, heldBefore, dropOlder: false }), page.items);
          const inPage = new Set(page.items.map((job) => job.id));
          for (const job of this.entities().values()) {
            if (!isTerminalStatus(job.status) && !inPage.has(job.id)) this.fetch(job.id);
          }
        },
        // Nothing to show: the next reconnection or a refresh tries again.
        error: () => undefined,
      });
    this.statsChanged$.next();
  }

  private fetch(id: string): void {
    if (this.fetching.has(id) || this.deleted.has(id)) return;
    this.fetching.add(id);
    this.fetch$.next(id);
  }

  /**
   * Drops a job (deleted, restored out of the trash, found gone). `to` says where it counts now,
   * for the counts; without it (gone elsewhere, unknown since when), they wait for the server's.
   */
  private forget(id: string, to?: 'trash' | 'library' | 'gone'): void {
    const held = this.entities().get(id);
    if (held && to && !this.deleted.has(id)) {
      this.count(countedAs(held), to === 'gone' ? null : { job: held, trashed: to === 'trash' });
      if (to === 'trash') this.forgotten.set(id, held);
    }
    this.deleted.add(id);
    if (!this.goneIds().has(id)) this.goneIds.update((ids) => new Set(ids).add(id));
    this.waiting.delete(id);
    this.entities.set(removeJob(this.entities(), id));
  }

  /** New jobs in; events that were waiting for any of them are applied now. */
  /** `next` is what is held with `incoming` put in (upsertJobs, mergeFirstPage): only those can have changed. */
  private commit(next: JobMap, incoming: readonly JobView[]): void {
    const before = this.entities();
    if (!this.renditions && next !== before) this.renditions = [...next.values()].some(hasRenditions);
    // A job held that comes back in another status (a retry's answer, a read after a reconnection).
    for (const { id } of incoming) {
      const was = before.get(id);
      const job = next.get(id);
      if (was && job && was !== job && was.status !== job.status) this.count(countedAs(was), countedAs(job));
    }
    this.entities.set(next);
    for (const [id, events] of [...this.waiting]) {
      const held = next.get(id);
      if (!held) continue;
      this.waiting.delete(id);
      for (const event of events) this.applyEvent(this.entities().get(id) ?? held, event);
    }
  }

  /**
   * Moves one job in the counts held (none where the server keeps none, or before they are in), and
   * has the server's read again later: a move the counts already had (they were read after it
   * happened) is put right then, instead of staying off by one.
   */
  private count(before: CountedAs, after: CountedAs): void {
    const stats = this.latestStats();
    if (stats) this.latestStats.set(moveCount(stats, before, after));
    this.statsChanged$.next();
  }

  private setBusy(ids: readonly string[], busy: boolean): void {
    this.busy.update((held) => {
      const next = new Set(held);
      for (const id of ids) {
        if (busy) next.add(id);
        else next.delete(id);
      }
      return next;
    });
  }
}

/** The count of jobs `query` matches, when the server's counts can say (one filter at most). */
function totalFor(stats: JobStats | null, query: JobQuery): number | null {
  if (!stats || query.q !== '') return null;
  if (query.trashed) return query.status === null && query.type === null ? stats.trashed : null;
  if (query.status !== null && query.type !== null) return null;
  if (query.status !== null) return stats.byStatus[query.status] ?? null;
  if (query.type !== null) return stats.byType[query.type] ?? null;
  return stats.total;
}

function isJob(value: unknown): value is JobView {
  return typeof value === 'object' && value !== null && typeof (value as JobView).id === 'string' && 'status' in value;
}
