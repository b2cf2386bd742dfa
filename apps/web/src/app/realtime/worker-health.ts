import { HttpClient, HttpErrorResponse } from '@angular/common/http';
import { DestroyRef, inject, Injectable, InjectionToken, signal } from '@angular/core';
import { takeUntilDestroyed } from '@angular/core/rxjs-interop';
import { catchError, filter, map, Observable, of, switchMap, timer } from 'rxjs';

/** The part of `/api/health` read here: the server reports `workers` down when no worker runs while jobs wait. */
interface HealthBody {
  details?: { workers?: { status?: string } };
}

/** When the first check runs after `watch` and how often after it (ms). */
export const WORKER_HEALTH_TIMING = new InjectionToken<{ firstMs: number; everyMs: number }>('WORKER_HEALTH_TIMING', {
  factory: () => ({ firstMs: 2_000, everyMs: 30_000 }),
});

/**
 * Whether the server says no worker is running while jobs wait (`/api/health` 503 with
 * `workers: down`), checked now and then while the page is visible. Anything else (ok, another
 * dependency down, no answer) is not this: the connection indicator shows those its own way.
 */
@Injectable({ providedIn: 'root' })
export class WorkerHealth {
  private readonly http = inject(HttpClient);
  private readonly timing = inject(WORKER_HEALTH_TIMING);
  private readonly down = signal(false);

  /** True while the last check found no worker running and jobs waiting. */
  readonly workersDown = this.down.asReadonly();

  /** Checks until `destroyRef` is destroyed. */
  watch(destroyRef: DestroyRef): void {
    timer(this.timing.firstMs, this.timing.everyMs)
      .pipe(
        filter(() => typeof document === 'undefined' || document.visibilityState !== 'hidden'),
        switchMap(() => this.check()),
        takeUntilDestroyed(destroyRef),
      )
      .subscribe((down) => this.down.set(down));
  }

  /** One check: true when the server reports its workers down. */
  check(): Observable<boolean> {
    return this.http.get<HealthBody>('/api/health').pipe(
      map((body) => workersDown(body)),
      catchError((error: unknown) =>
        of(error instanceof HttpErrorResponse && error.status === 503 && workersDown(error.error as HealthBody)),
      ),
    );
  }
}

function workersDown(body: HealthBody | null | undefined): boolean {
  return body?.details?.workers?.status === 'down';
}
