import { defer, fromEvent, merge, Observable, retry, take, timer } from 'rxjs';

/** How often a failed load is tried again when the browser does not say it is back online. */
export const RELOAD_EVERY_MS = 10_000;

/**
 * Code loaded on demand (`import()`), tried again until it loads: a chunk asked for offline fails,
 * and the browser fetches it anew on the next try. The next try comes when the browser is back
 * online, or after {@link RELOAD_EVERY_MS} (a captive portal or a flaky link sends no `online`).
 */
export function loadUntilLoaded<T>(load: () => Promise<T>): Observable<T> {
  return defer(load).pipe(retry({ delay: () => merge(fromEvent(window, 'online'), timer(RELOAD_EVERY_MS)).pipe(take(1)) }));
}
