import { HttpErrorResponse } from '@angular/common/http';
import { computed, Injectable, inject, signal } from '@angular/core';
import { takeUntilDestroyed } from '@angular/core/rxjs-interop';
import type { JobView, Rejected, UploadResult } from '@app/shared';
import { catchError, EMPTY, filter, mergeMap, Observable, retry, Subject, takeUntil, tap, throwError, timer } from 'rxjs';
import { describeApiError } from '../http/api-error';
import { newIdempotencyKey } from './idempotency-key';
import { UploadApi } from './upload-api.service';
import { isFinished, UploadItem } from './upload-item';

/** Files going up at the same time. */
export const UPLOAD_CONCURRENCY = 3;
/** Waits before sending a file again after a transient failure, same Idempotency-Key. */
export const UPLOAD_RETRY_DELAYS_MS: readonly number[] = [1000, 4000];
/** Times a file waits out the server's upload rate limit (429) before giving up. */
export const MAX_RATE_LIMIT_WAITS = 20;

/**
 * No answer, a gateway hiccup, or 409 "the same Idempotency-Key is still being processed"
 * (an earlier attempt of ours is still running on the server): worth sending again.
 */
const TRANSIENT_STATUSES: readonly number[] = [0, 409, 502, 503, 504];

interface RetryHistory {
  transient: number;
  rateLimited: number;
}

/**
 * How long to wait before sending a file again after `error`, or null to give up. A 429 (many
 * files dropped at once exceed the per-minute upload limit) waits as long as Retry-After says.
 */
function uploadRetryDelayMs(error: unknown, history: RetryHistory): number | null {
  if (!(error instanceof HttpErrorResponse)) return null;
  if (error.status === 429) {
    if (history.rateLimited >= MAX_RATE_LIMIT_WAITS) return null;
    return Math.max(1, describeApiError(error).retryAfterSeconds ?? 5) * 1000;
  }
  if (TRANSIENT_STATUSES.includes(error.status)) return UPLOAD_RETRY_DELAYS_MS[history.transient] ?? null;
  return null;
}

let nextId = 0;

/**
 * The files of this page on their way up: a few at a time, each its own request with its own
 * progress and outcome, sent again after transient failures and rate limiting (429, after
 * Retry-After) with the same Idempotency-Key, so no job is ever created twice. Provided by the
 * upload panel.
 */
@Injectable()
export class UploadQueue {
  private readonly api = inject(UploadApi);
  private readonly state = signal<readonly UploadItem[]>([]);
  private readonly start$ = new Subject<string>();
  private readonly cancel$ = new Subject<string>();
  private readonly uploadedJobs = new Subject<JobView[]>();

  readonly items = this.state.asReadonly();
  readonly hasFinished = computed(() => this.state().some(isFinished));
  /** Jobs created by uploads, as soon as each file's answer is in. */
  readonly uploaded$: Observable<JobView[]> = this.uploadedJobs.asObservable();

  constructor() {
    this.start$
      .pipe(
        mergeMap((id) => this.run(id), UPLOAD_CONCURRENCY),
        takeUntilDestroyed(),
      )
      .subscribe();
  }

  add(files: Iterable<File>): void {
    const added: UploadItem[] = Array.from(files, (file) => ({
      id: `upload-${++nextId}`,
      file,
      key: newIdempotencyKey(),
      state: 'waiting',
      loaded: 0,
      total: file.size,
      message: null,
      jobIds: [],
    }));
    if (added.length === 0) return;
    this.state.update((items) => [...items, ...added]);
    for (const item of added) this.start$.next(item.id);
  }

  /** Sends a failed or cancelled file again, with the key it had. */
  retry(id: string): void {
    const item = this.find(id);
    if (!item || (item.state !== 'failed' && item.state !== 'cancelled')) return;
    this.patch(id, { state: 'waiting', loaded: 0, message: null });
    this.start$.next(id);
  }

  cancel(id: string): void {
    const item = this.find(id);
    if (!item || isFinished(item)) return;
    this.patch(id, { state: 'cancelled', message: null });
    this.cancel$.next(id);
  }

  /** Takes a finished file off the list. */
  dismiss(id: string): void {
    const item = this.find(id);
    if (item && isFinished(item)) this.state.update((items) => items.filter((candidate) => candidate.id !== id));
  }

  clearFinished(): void {
    this.state.update((items) => items.filter((item) => !isFinished(item)));
  }

  private run(id: string): Observable<unknown> {
    const item = this.find(id);
    if (!item || item.state !== 'waiting') return EMPTY;
    this.patch(id, { state: 'uploading', loaded: 0, total: item.file.size });
    const history: RetryHistory = { transient: 0, rateLimited: 0 };
    return this.api.upload(item.file, item.key).pipe(
      retry({
        delay: (error: unknown) => {
          const wait = uploadRetryDelayMs(error, history);
          if (wait === null) return throwError(() => error);
          if ((error as HttpErrorResponse).status === 429) history.rateLimited += 1;
          else history.transient += 1;
          this.patch(id, { state: 'waiting', loaded: 0 });
          return timer(wait).pipe(tap(() => this.patch(id, { state: 'uploading', loaded: 0 })));
        },
      }),
      tap((event) => {
        if (event.type === 'progress') this.patch(id, { loaded: event.loaded, total: event.total || item.file.size });
        else this.succeed(id, event.result);
      }),
      catchError((error: unknown) => {
        this.fail(id, error);
        return EMPTY;
      }),
      takeUntil(this.cancel$.pipe(filter((cancelled) => cancelled === id))),
    );
  }

  private succeed(id: string, result: UploadResult): void {
    const item = this.find(id);
    if (!item) return;
    if (result.jobs.length > 0) {
      this.patch(id, { state: 'done', loaded: item.total, message: null, jobIds: result.jobs.map((job) => job.id) });
      this.uploadedJobs.next(result.jobs);
      return;
    }
    const rejected = rejectionOf(item, result.rejected);
    this.patch(id, { state: 'rejected', message: rejected?.message ?? 'The server did not accept this file.' });
  }

  private fail(id: string, error: unknown): void {
    const item = this.find(id);
    if (!item) return;
    const problem = describeApiError(error);
    const rejected = rejectionOf(item, problem.rejected);
    if (rejected) this.patch(id, { state: 'rejected', message: rejected.message });
    else if (problem.status === 413) this.patch(id, { state: 'rejected', message: problem.message });
    else this.patch(id, { state: 'failed', message: problem.message });
  }

  private find(id: string): UploadItem | undefined {
    return this.state().find((item) => item.id === id);
  }

  private patch(id: string, changes: Partial<Omit<UploadItem, 'id' | 'file' | 'key'>>): void {
    this.state.update((items) => items.map((item) => (item.id === id ? { ...item, ...changes } : item)));
  }
}

/** Why the server refused this item's file: its own entry, else the first (one file per request). */
function rejectionOf(item: UploadItem, rejected: readonly Rejected[]): Rejected | undefined {
  return rejected.find((entry) => entry.originalFilename === item.file.name) ?? rejected[0];
}
