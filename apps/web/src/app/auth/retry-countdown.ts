import { computed, DestroyRef, inject, Signal, signal } from '@angular/core';
import { takeUntilDestroyed } from '@angular/core/rxjs-interop';
import { Subscription, takeWhile, timer } from 'rxjs';
import { formatDuration } from '../ui/format-duration';

export interface RetryCountdown {
  /** "You can try again in 4 min 59 s." while waiting, otherwise null. */
  readonly message: Signal<string | null>;
  /** Starts (or restarts) a wait of `seconds`; `done` runs when it is over. */
  start(seconds: number, done?: () => void): void;
}

/**
 * A ticking wait for a 429's Retry-After, as signals. Call in an injection context; the
 * ticking stops with the component.
 */
export function createRetryCountdown(): RetryCountdown {
  const destroyRef = inject(DestroyRef);
  const until = signal<number | null>(null);
  const now = signal(Date.now());
  let ticking: Subscription | null = null;

  const remaining = computed(() => {
    const at = until();
    return at === null ? 0 : Math.max(0, Math.ceil((at - now()) / 1000));
  });
  const waiting = computed(() => remaining() > 0);
  const message = computed(() => (waiting() ? `You can try again in ${formatDuration(remaining())}.` : null));

  function start(seconds: number, done?: () => void): void {
    ticking?.unsubscribe();
    const at = Date.now() + seconds * 1000;
    until.set(at);
    now.set(Date.now());
    ticking = timer(1000, 1000)
      .pipe(
        takeWhile(() => Date.now() < at, true),
        takeUntilDestroyed(destroyRef),
      )
      .subscribe({
        next: () => now.set(Date.now()),
        complete: () => {
          if (Date.now() >= at) {
            until.set(null);
            done?.();
          }
        },
      });
  }

  return { message, start };
}
