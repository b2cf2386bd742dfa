import { HttpErrorResponse } from '@angular/common/http';
import { computed, DestroyRef, Injectable, inject, signal } from '@angular/core';
import { takeUntilDestroyed } from '@angular/core/rxjs-interop';
import { isTerminalStatus, JobStatusEvent, JobView, Rejected, UploadResult } from '@app/shared';
import {
  catchError,
  distinctUntilChanged,
  EMPTY,
  filter,
  mergeMap,
  Observable,
  retry,
  skip,
  Subject,
  takeUntil,
  tap,
  throwError,
  timer,
} from 'rxjs';
import { describeApiError } from '../http/api-error';
import { ServerFeatures } from '../http/server-features';
import { changedAt, applyStatusEvent } from '../jobs/job-events';
import { JobsApi } from '../jobs/jobs-api.service';
import { JobSocket } from '../realtime/job-socket';
import { newIdempotencyKey } from './idempotency-key';
import type { PickedFile } from './picked-files';
import { UploadApi } from './upload-api.service';
import { isFinished, UploadItem } from './upload-item';
import { TusUploads } from './tus-uploads';

/** Files going up at the same time. */
export const UPLOAD_CONCURRENCY = 3;
/** Waits before sending a file again after a transient failure, same Idempotency-Key. */
export const UPLOAD_RETRY_DELAYS_MS: readonly number[] = [1000, 4000];
/** Times a file waits out the server's upload rate limit (429) before giving up. */
export const MAX_RATE_LIMIT_WAITS = 20;
/** Files this large go over tus where the server has it (resumable, can pause). */
export const RESUMABLE_FROM_BYTES = 8 * 1024 * 1024;
/** Events for jobs not known yet (the upload's answer is still on its way) kept for later. */
const EARLY_EVENTS_KEPT = 500;
/** Upload speed is measured over this window (for the time left). */
const RATE_WINDOW_MS = 5000;

/**
 * No answer, a gateway hiccup, or 409 "the same Idempotency-Key is still being processed"
 * (an earlier attempt of ours is still running on the server): worth sending again.
 */
const TRANSIENT_STATUSES: readonly number[] = [0, 409, 502, 503, 504];

interface RetryHistory {
  transient: number;
  rateLimited: number;
}

/** A rejection as the contract has it: `duplicate` names the job the user already has. */
type Rejection = Omit<Rejected, 'code'> & { code: string; existingJobId?: string };

/** Where all the uploads of the page stand, for the tray's header. */
export interface UploadSummary {
  /** Files in the list (cancelled ones left out). */
  readonly files: number;
  /** Of those, uploaded (the server made a job). */
  readonly uploaded: number;
  /** Waiting, uploading or paused. */
  readonly active: number;
  /** Rejected or failed. */
  readonly problems: number;
  /** Uploaded, but their jobs are not finished yet. */
  readonly processing: number;
  /** Jobs that failed after upload. */
  readonly jobsFailed: number;
  readonly bytesLoaded: number;
  readonly bytesTotal: number;
  /** Seconds left at the current speed; null when not known. */
  readonly secondsLeft: number | null;
  /** Nothing is going on any more (every file finished, every job done or failed). */
  readonly settled: boolean;
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
 * The files of this session on their way up, and the jobs they became: a few at a time, each its
 * own request with its own progress and outcome (large files over tus where the server has it,
 * resumable and pausable), sent again after transient failures and rate limiting (429, after
 * Retry-After) with the same Idempotency-Key, so no job is ever created twice. Each job made is
 * followed live (`job:status`) until it is done or failed. Provided by the signed-in shell, so
 * uploads go on while the user moves between pages.
 */
@Injectable()
export class UploadQueue {
  private readonly api = inject(UploadApi);
  private readonly tus = inject(TusUploads);
  private readonly jobsApi = inject(JobsApi);
  private readonly socket = inject(JobSocket);
  private readonly features = inject(ServerFeatures);
  private readonly destroyRef = inject(DestroyRef);
  private readonly state = signal<readonly UploadItem[]>([]);
  private readonly tracked = signal<ReadonlyMap<string, JobView>>(new Map());
  private readonly lastSkipped = signal(0);
  private readonly rate = signal<number | null>(null);
  private readonly start$ = new Subject<string>();
  private readonly stop$ = new Subject<string>();
  private readonly uploadedJobs = new Subject<JobView[]>();
  /** Events for jobs that no answer has named yet. */
  private readonly earlyEvents = new Map<string, JobStatusEvent[]>();
  private readonly samples: { at: number; bytes: number }[] = [];

  readonly items = this.state.asReadonly();
  /** The jobs the uploads made, by id, as they change. */
  readonly jobs = this.tracked.asReadonly();
  /** Files inside the last picked or dropped folders that were left out (not images or videos). */
  readonly skipped = this.lastSkipped.asReadonly();
  readonly hasFinished = computed(() => this.state().some(isFinished));
  /** Jobs created by uploads, as soon as each file's answer is in. */
  readonly uploaded$: Observable<JobView[]> = this.uploadedJobs.asObservable();
  readonly summary = computed<UploadSummary>(() => {
    const items = this.state().filter((item) => item.state !== 'cancelled');
    const jobs = this.tracked();
    const counted = items.filter((item) => item.state !== 'rejected' && item.state !== 'failed');
    const jobIds = items.flatMap((item) => item.jobIds);
    const processing = jobIds.filter((id) => !isTerminalStatus(jobs.get(id)?.status ?? 'queued')).length;
    const active = items.filter((item) => !isFinished(item)).length;
    return {
      files: items.length,
      uploaded: items.filter((item) => item.state === 'done').length,
      active,
      problems: items.length - counted.length,
      processing,
      jobsFailed: jobIds.filter((id) => jobs.get(id)?.status === 'failed').length,
      bytesLoaded: counted.reduce((sum, item) => sum + (item.state === 'done' ? item.total : item.loaded), 0),
      bytesTotal: counted.reduce((sum, item) => sum + item.total, 0),
      secondsLeft: this.secondsLeft(counted),
      settled: active === 0 && processing === 0,
    };
  });

  constructor() {
    this.start$
      .pipe(
        mergeMap((id) => this.run(id), UPLOAD_CONCURRENCY),
        takeUntilDestroyed(),
      )
      .subscribe();
    this.socket.statusEvents$.pipe(takeUntilDestroyed()).subscribe((event) => this.onEvent(event));
    // Back after a lost connection: the jobs still in flight may have moved meanwhile.
    this.socket.state$
      .pipe(
        distinctUntilChanged(),
        skip(1),
        filter((state) => state === 'connected'),
        mergeMap(() => [...this.tracked()].filter(([, job]) => !isTerminalStatus(job.status)).map(([id]) => id)),
        mergeMap((id) => this.jobsApi.get(id).pipe(catchError(() => EMPTY)), 4),
        takeUntilDestroyed(),
      )
      .subscribe((job) => this.track([job]));
  }

  /** Adds files (loose or from folders) to the end of the line. */
  add(files: Iterable<File | PickedFile>, skipped = 0): void {
    this.lastSkipped.set(skipped);
    const resumable = this.features.resumableUploads();
    const added: UploadItem[] = Array.from(files, (entry) => {
      const { file, folderPath } = entry instanceof File ? { file: entry, folderPath: '' } : entry;
      return {
        id: `upload-${++nextId}`,
        file,
        folderPath,
        key: newIdempotencyKey(),
        state: 'waiting',
        loaded: 0,
        total: file.size,
        message: null,
        jobIds: [],
        resumable: resumable && file.size >= RESUMABLE_FROM_BYTES,
        allowDuplicates: false,
        duplicateOf: null,
      };
    });
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

  /** A file rejected as a duplicate, sent again with `allowDuplicates=true` (and a new key: it is a new request). */
  uploadAnyway(id: string): void {
    const item = this.find(id);
    if (!item || item.duplicateOf === null) return;
    this.patch(id, { state: 'waiting', loaded: 0, message: null, duplicateOf: null, allowDuplicates: true, key: newIdempotencyKey() });
    this.start$.next(id);
  }

  /** Stops a resumable upload where it is. */
  pause(id: string): void {
    const item = this.find(id);
    if (!item?.resumable || item.state !== 'uploading') return;
    this.patch(id, { state: 'paused' });
    this.stop$.next(id);
  }

  /** Goes on with a paused upload from where the server has it. */
  resume(id: string): void {
    if (this.find(id)?.state !== 'paused') return;
    this.patch(id, { state: 'waiting' });
    this.start$.next(id);
  }

  cancel(id: string): void {
    const item = this.find(id);
    if (!item || isFinished(item)) return;
    this.patch(id, { state: 'cancelled', message: null });
    this.stop$.next(id);
    if (item.resumable) this.tus.discard(id);
  }

  /** Every file not finished yet (all marked first, so none of them starts as another stops). */
  cancelAll(): void {
    const open = this.state().filter((item) => !isFinished(item));
    this.state.update((items) => items.map((item) => (isFinished(item) ? item : { ...item, state: 'cancelled' as const, message: null })));
    for (const item of open) {
      this.stop$.next(item.id);
      if (item.resumable) this.tus.discard(item.id);
    }
  }

  /** Takes a finished file off the list. */
  dismiss(id: string): void {
    const item = this.find(id);
    if (item && isFinished(item)) this.state.update((items) => items.filter((candidate) => candidate.id !== id));
  }

  clearFinished(): void {
    this.state.update((items) => items.filter((item) => !isFinished(item)));
    this.lastSkipped.set(0);
  }

  private run(id: string): Observable<unknown> {
    const item = this.find(id);
    if (!item || item.state !== 'waiting') return EMPTY;
    this.patch(id, { state: 'uploading', loaded: item.resumable ? item.loaded : 0, total: item.file.size });
    const history: RetryHistory = { transient: 0, rateLimited: 0 };
    const options = { allowDuplicates: item.allowDuplicates };
    const transfer = item.resumable ? this.tus.upload(id, item.file, options) : this.api.upload(item.file, item.key, options);
    return transfer.pipe(
      retry({
        delay: (error: unknown) => {
          const wait = item.resumable ? null : uploadRetryDelayMs(error, history);
          if (wait === null) return throwError(() => error);
          if ((error as HttpErrorResponse).status === 429) history.rateLimited += 1;
          else history.transient += 1;
          this.patch(id, { state: 'waiting', loaded: 0 });
          return timer(wait).pipe(tap(() => this.patch(id, { state: 'uploading', loaded: 0 })));
        },
      }),
      tap((event) => {
        if (event.type === 'progress') {
          this.patch(id, { loaded: event.loaded, total: event.total || item.file.size });
          this.sample();
        } else this.succeed(id, event.result);
      }),
      catchError((error: unknown) => {
        this.fail(id, error);
        return EMPTY;
      }),
      takeUntil(this.stop$.pipe(filter((stopped) => stopped === id))),
      takeUntilDestroyed(this.destroyRef),
    );
  }

  private succeed(id: string, result: UploadResult): void {
    const item = this.find(id);
    if (!item) return;
    if (result.jobs.length > 0) {
      this.patch(id, { state: 'done', loaded: item.total, message: null, jobIds: result.jobs.map((job) => job.id) });
      this.track(result.jobs);
      this.uploadedJobs.next(result.jobs);
      return;
    }
    this.reject(id, rejectionOf(item, result.rejected) ?? null, 'The server did not accept this file.');
  }

  private fail(id: string, error: unknown): void {
    const item = this.find(id);
    if (!item) return;
    const problem = describeApiError(error);
    const rejected = rejectionOf(item, problem.rejected);
    if (rejected) this.reject(id, rejected, rejected.message);
    else if (problem.status === 413 || problem.status === 415) this.reject(id, null, problem.message);
    else this.patch(id, { state: 'failed', message: problem.message });
  }

  private reject(id: string, rejection: Rejection | null, message: string): void {
    const duplicateOf = rejection?.code === 'duplicate' && rejection.existingJobId ? rejection.existingJobId : null;
    this.patch(id, { state: 'rejected', message: rejection?.message ?? message, duplicateOf });
  }

  /** Jobs from answers: followed from now on, with any events that came before the answer. */
  private track(jobs: readonly JobView[]): void {
    this.tracked.update((held) => {
      const next = new Map(held);
      for (const job of jobs) {
        const known = next.get(job.id);
        let tracked = known && changedAt(known) > changedAt(job) ? known : job;
        for (const event of this.earlyEvents.get(job.id) ?? []) tracked = applyStatusEvent(tracked, event);
        this.earlyEvents.delete(job.id);
        next.set(job.id, tracked);
      }
      return next;
    });
  }

  private onEvent(event: JobStatusEvent): void {
    const held = this.tracked().get(event.jobId);
    if (held) {
      const next = applyStatusEvent(held, event);
      if (next !== held) this.tracked.update((jobs) => new Map(jobs).set(event.jobId, next));
      return;
    }
    // Only while files are going up can an answer still name this job.
    if (!this.state().some((item) => !isFinished(item))) return;
    this.earlyEvents.set(event.jobId, [...(this.earlyEvents.get(event.jobId) ?? []), event]);
    if (this.earlyEvents.size > EARLY_EVENTS_KEPT) this.earlyEvents.delete(this.earlyEvents.keys().next().value!);
  }

  /** Bytes sent so far, sampled to measure the speed. */
  private sample(): void {
    const now = Date.now();
    const bytes = this.state().reduce((sum, item) => sum + (item.state === 'done' ? item.total : item.loaded), 0);
    this.samples.push({ at: now, bytes });
    while (this.samples.length > 2 && now - this.samples[0].at > RATE_WINDOW_MS) this.samples.shift();
    const first = this.samples[0];
    const seconds = (now - first.at) / 1000;
    this.rate.set(seconds >= 0.5 && bytes > first.bytes ? (bytes - first.bytes) / seconds : this.rate());
  }

  private secondsLeft(counted: readonly UploadItem[]): number | null {
    const rate = this.rate();
    const remaining = counted.reduce((sum, item) => sum + (isFinished(item) ? 0 : item.total - item.loaded), 0);
    if (remaining <= 0 || rate === null || rate <= 0) return null;
    return remaining / rate;
  }

  private find(id: string): UploadItem | undefined {
    return this.state().find((item) => item.id === id);
  }

  private patch(id: string, changes: Partial<Omit<UploadItem, 'id' | 'file'>>): void {
    this.state.update((items) => items.map((item) => (item.id === id ? { ...item, ...changes } : item)));
  }
}

/** Why the server refused this item's file: its own entry, else the first (one file per request). */
function rejectionOf(item: UploadItem, rejected: readonly Rejected[]): Rejection | undefined {
  return rejected.find((entry) => entry.originalFilename === item.file.name) ?? rejected[0];
}
