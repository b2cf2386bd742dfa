import { A11yModule } from '@angular/cdk/a11y';
import { Location } from '@angular/common';
import {
  ChangeDetectionStrategy,
  Component,
  computed,
  DestroyRef,
  DOCUMENT,
  effect,
  inject,
  input,
  signal,
  untracked,
} from '@angular/core';
import { MatButtonModule } from '@angular/material/button';
import { MatIconModule } from '@angular/material/icon';
import { MatProgressSpinnerModule } from '@angular/material/progress-spinner';
import { MatTooltipModule } from '@angular/material/tooltip';
import { Title } from '@angular/platform-browser';
import { Router } from '@angular/router';
import { formatBytes, type JobView } from '@app/shared';
import { canRetry, failureAdvice, jobMedia } from '../jobs/job-media';
import { JOB_STATUS_TEXT } from '../jobs/job-status-text';
import { JobsStore } from '../jobs/jobs.store';
import { StatusBadgeComponent } from '../jobs/status-badge.component';
import { LibraryActions } from '../library/library-actions';
import { formatClock } from '../ui/format-duration';

/** A horizontal swipe at least this long (and longer than it is tall) goes to the next or previous job. */
const SWIPE_PX = 60;
const TIME = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
const POSITION = new Intl.NumberFormat();

/** Navigation state the library sets when it opens the viewer (so closing goes back in history). */
interface ViewerState {
  fromLibrary?: boolean;
}

/**
 * /jobs/:id over the library: the job large (the preview rendition of an image, else its 2× or
 * plain thumbnail; a video plays from its original), its details, previous/next with the arrow
 * keys and swipes (in the library's order and filters; older pages are read as needed), Esc to
 * close, download, retry where it helps, delete. A modal dialog: focus stays inside while it is
 * open and goes back to the job's tile when it closes. Deep-linkable: a job not in the library's
 * pages is read on its own.
 */
/** Overlays that close on Escape themselves (a tooltip is not one of them: Escape closes the viewer). */
const OVERLAYS_WANTING_ESCAPE =
  '.cdk-overlay-container :is(.mat-mdc-dialog-container, .mat-mdc-menu-panel, .mat-mdc-select-panel, .mat-mdc-autocomplete-panel)';

@Component({
  selector: 'app-viewer',
  changeDetection: ChangeDetectionStrategy.OnPush,
  imports: [A11yModule, MatButtonModule, MatIconModule, MatProgressSpinnerModule, MatTooltipModule, StatusBadgeComponent],
  host: { '(document:keydown)': 'onKeydown($event)' },
  templateUrl: './viewer.component.html',
  styleUrl: './viewer.component.scss',
})
export class ViewerComponent {
  /** Route parameter, bound by the router. */
  readonly id = input.required<string>();

  private readonly store = inject(JobsStore);
  private readonly actions = inject(LibraryActions);
  private readonly router = inject(Router);
  private readonly location = inject(Location);
  private readonly title = inject(Title);
  private readonly document = inject(DOCUMENT);
  private readonly fromLibrary = (this.location.getState() as ViewerState | null)?.fromLibrary === true;
  /** Next was asked for at the end of what is held: go on once the next page is in. */
  private readonly wantsNext = signal(false);
  private swipeStart: { x: number; y: number } | null = null;

  readonly job = computed(() => this.store.job(this.id()) ?? null);
  readonly gone = computed(() => this.job() === null && this.store.gone().has(this.id()));
  private readonly index = computed(() => this.store.jobs().findIndex((job) => job.id === this.id()));
  readonly previous = computed(() => (this.index() > 0 ? this.store.jobs()[this.index() - 1] : null));
  readonly next = computed(() => {
    const index = this.index();
    return index >= 0 && index < this.store.jobs().length - 1 ? this.store.jobs()[index + 1] : null;
  });
  readonly hasNext = computed(() => this.next() !== null || (this.index() >= 0 && this.store.hasMore()));
  readonly position = computed(() => {
    const index = this.index();
    if (index < 0) return null;
    const total = this.store.total() ?? this.store.jobs().length;
    return `${POSITION.format(index + 1)} of ${POSITION.format(total)}${this.store.total() === null && this.store.hasMore() ? '+' : ''}`;
  });
  readonly media = computed(() => {
    const job = this.job();
    return job ? jobMedia(job) : null;
  });
  readonly name = computed(() => this.job()?.originalFilename ?? '');
  /** A video plays from its original where the server streams it. */
  readonly videoUrl = computed(() => (this.job()?.fileType === 'video' ? (this.media()?.originalUrl ?? null) : null));
  readonly imageUrl = computed(() => {
    const media = this.media();
    return media ? (media.previewUrl ?? media.thumbnail2xUrl ?? media.thumbnailUrl) : null;
  });
  /** The small thumbnail (already loaded by the grid) fills in while the large one loads. */
  readonly backdrop = computed(() => {
    const url = this.media()?.thumbnailUrl;
    return url && url !== this.imageUrl() ? `url("${url}")` : null;
  });
  readonly poster = computed(() => this.media()?.previewUrl ?? this.media()?.thumbnail2xUrl ?? this.media()?.thumbnailUrl ?? null);
  readonly loaded = signal(false);
  readonly status = computed(() => this.job()?.status ?? null);
  readonly statusText = computed(() => {
    const status = this.status();
    return status ? JOB_STATUS_TEXT[status].description : '';
  });
  readonly canRetry = computed(() => {
    const job = this.job();
    return job ? canRetry(job) : false;
  });
  readonly advice = computed(() => {
    const job = this.job();
    return job ? failureAdvice(job) : null;
  });
  readonly facts = computed(() => {
    const job = this.job();
    const media = this.media();
    if (!job || !media) return [];
    const facts: { term: string; value: string }[] = [
      { term: 'Type', value: `${job.fileType === 'video' ? 'Video' : 'Image'} (${job.mimeType})` },
      { term: 'Size', value: formatBytes(job.fileSize) },
    ];
    if (media.width && media.height) facts.push({ term: 'Dimensions', value: `${media.width} × ${media.height}` });
    if (media.durationMs) facts.push({ term: 'Duration', value: formatClock(media.durationMs) });
    facts.push({ term: 'Uploaded', value: TIME.format(new Date(job.createdAt)) });
    if (job.completedAt)
      facts.push({ term: job.status === 'failed' ? 'Failed' : 'Finished', value: TIME.format(new Date(job.completedAt)) });
    return facts;
  });
  readonly downloadName = computed(() => this.name());

  constructor() {
    const escapeFirst = (event: KeyboardEvent) => this.onEscapeFirst(event);
    this.document.addEventListener('keydown', escapeFirst, true);
    inject(DestroyRef).onDestroy(() => this.document.removeEventListener('keydown', escapeFirst, true));
    // A job the library has not read (a deep link): read it.
    effect(() => {
      const id = this.id();
      if (this.store.loaded() && !this.job()) untracked(() => this.store.ensure(id));
    });
    effect(() => {
      const name = this.name();
      if (name) this.title.setTitle(`${name} · Thumbs`);
    });
    effect(() => {
      this.id();
      untracked(() => this.loaded.set(false));
    });
    effect(() => {
      const next = this.next();
      if (next && this.wantsNext()) untracked(() => this.go(next));
    });
    const root = this.document.documentElement;
    root.classList.add('viewer-open');
    inject(DestroyRef).onDestroy(() => root.classList.remove('viewer-open'));
  }

  /** For the library: the job shown last, whose tile gets the focus back. */
  shownJobId(): string | null {
    return this.job() ? this.id() : null;
  }

  showPrevious(): void {
    const previous = this.previous();
    if (previous) this.go(previous);
  }

  showNext(): void {
    const next = this.next();
    if (next) this.go(next);
    else if (this.hasNext()) {
      this.wantsNext.set(true);
      this.store.loadMore();
    }
  }

  close(): void {
    if (this.fromLibrary) this.location.back();
    else void this.router.navigate(['/dashboard'], { queryParamsHandling: 'preserve', replaceUrl: true });
  }

  retry(): void {
    const job = this.job();
    if (job) this.actions.retry([job]);
  }

  remove(): void {
    const job = this.job();
    if (!job) return;
    const after = this.next() ?? this.previous();
    this.actions.delete([job], () => (after ? this.go(after) : this.close()));
  }

  /**
   * Escape, seen before anything else (capture phase): a tooltip shown on a focused button is an
   * overlay, and the CDK gives it the first Escape to hide itself, so the viewer would close only on
   * the second. Left to those that use it when a dialog or a menu is open.
   */
  onEscapeFirst(event: KeyboardEvent): void {
    if (event.key !== 'Escape' || event.defaultPrevented || this.document.querySelector(OVERLAYS_WANTING_ESCAPE)) return;
    event.preventDefault();
    event.stopPropagation();
    this.close();
  }

  onKeydown(event: KeyboardEvent): void {
    if (event.defaultPrevented || this.document.querySelector('.cdk-overlay-container .mat-mdc-dialog-container')) return;
    const target = event.target as HTMLElement | null;
    // Keys a player or a field needs for itself.
    const own = target instanceof HTMLVideoElement || target instanceof HTMLInputElement || target instanceof HTMLSelectElement;
    if (event.key === 'Escape') {
      event.preventDefault();
      this.close();
    } else if (event.key === 'ArrowLeft' && !own) {
      event.preventDefault();
      this.showPrevious();
    } else if (event.key === 'ArrowRight' && !own) {
      event.preventDefault();
      this.showNext();
    }
  }

  swipeFrom(event: PointerEvent): void {
    this.swipeStart = event.pointerType === 'mouse' ? null : { x: event.clientX, y: event.clientY };
  }

  swipeTo(event: PointerEvent): void {
    const start = this.swipeStart;
    this.swipeStart = null;
    if (!start) return;
    const dx = event.clientX - start.x;
    const dy = event.clientY - start.y;
    if (Math.abs(dx) < SWIPE_PX || Math.abs(dx) < Math.abs(dy)) return;
    if (dx < 0) this.showNext();
    else this.showPrevious();
  }

  private go(job: JobView): void {
    this.wantsNext.set(false);
    void this.router.navigate(['/jobs', job.id], {
      queryParamsHandling: 'preserve',
      replaceUrl: true,
      state: { fromLibrary: this.fromLibrary } satisfies ViewerState,
    });
  }
}
