import { A11yModule } from '@angular/cdk/a11y';
import { Location } from '@angular/common';
import {
  ChangeDetectionStrategy,
  Component,
  computed,
  DestroyRef,
  DOCUMENT,
  effect,
  ElementRef,
  inject,
  input,
  signal,
  untracked,
  viewChild,
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
import { clampZoom, detailScale, fitScale, fitZoom, Point, Size, wheelFactor, Zoom, ZOOM_STEP, zoomAround } from './zoom';

/** A horizontal swipe at least this long (and longer than it is tall) goes to the next or previous job. */
const SWIPE_PX = 60;
const TIME = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
const POSITION = new Intl.NumberFormat();
const PERCENT = new Intl.NumberFormat(undefined, { style: 'percent', maximumFractionDigits: 0 });
/** Originals the browser shows itself; the others (HEIC, TIFF, BMP) are seen through their preview only. */
const DISPLAYABLE_ORIGINALS: ReadonlySet<string> = new Set(['image/jpeg', 'image/png', 'image/webp', 'image/gif', 'image/avif']);
/**
 * Originals with more pixels, or more bytes, stay their preview even at actual size: a browser
 * holds a decoded picture at 4 bytes a pixel (a 48 MP phone photo: 190 MB, too much for a phone),
 * and a large file is slow to come anywhere (a PNG of 25 MP can be 100 MB).
 */
const MAX_ORIGINAL_PIXELS = 25_000_000;
const MAX_ORIGINAL_BYTES = 32 * 1024 * 1024;

/** Navigation state the library sets when it opens the viewer (so closing goes back in history). */
interface ViewerState {
  fromLibrary?: boolean;
}

/**
 * /jobs/:id over the library: the job large (the preview rendition of an image, else its 2× or
 * plain thumbnail; a video plays from its original), its details, previous/next with the arrow
 * keys and swipes (in the library's order and filters; older pages are read as needed), Esc to
 * close, download, retry where it helps, delete.
 *
 * An image with a preview zooms: double-click or the toolbar button between fitting and actual
 * size, the wheel or a pinch (ctrl+wheel) around the pointer, `+`, `-` and `0` (fit); dragged
 * when zoomed. Past the preview's own pixels the original takes over where the browser can show
 * it and it is not huge, laid over the preview once decoded (a failed one leaves the preview).
 * Each job starts fitted. A modal dialog: focus stays inside while it is
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
  private pan: { pointerId: number; x: number; y: number; from: Zoom } | null = null;
  private readonly frame = viewChild<ElementRef<HTMLElement>>('frame');
  /** The frame the picture is shown in, once measured. */
  private readonly frameSize = signal<Size | null>(null);
  /** The preview's own pixels, once loaded. */
  private readonly previewSize = signal<Size | null>(null);
  /** Where the picture sits when zoomed; null: it fits the frame. */
  private readonly zoom = signal<Zoom | null>(null);
  /** The original has been asked for (it stays once it has been). */
  private readonly originalWanted = signal(false);

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
  readonly originalLoaded = signal(false);
  readonly originalFailed = signal(false);
  readonly panning = signal(false);
  /** The last change was a step (button, double-click, key): the picture moves there smoothly. */
  readonly animated = signal(false);
  /**
   * The picture's own size: the original's (after orientation) where the server says, else the
   * preview's. Only a preview has the picture's shape (thumbnails are square crops): without one, no zoom.
   */
  private readonly picture = computed<Size | null>(() => {
    const media = this.media();
    if (!media?.previewUrl || this.videoUrl()) return null;
    if (media.width && media.height) return { width: media.width, height: media.height };
    return this.previewSize();
  });
  /** Where the picture sits now: fitted, or zoomed within bounds. */
  private readonly view = computed<Zoom | null>(() => {
    const picture = this.picture();
    const frame = this.frameSize();
    if (!picture || !frame || frame.width <= 0 || frame.height <= 0) return null;
    const zoom = this.zoom();
    return zoom ? clampZoom(zoom, picture, frame) : fitZoom(picture, frame);
  });
  /** The shown picture's box, centred in the frame and moved by the pan; null: laid out by CSS. */
  readonly placement = computed(() => {
    const view = this.view();
    const picture = this.picture();
    if (!view || !picture) return null;
    return {
      width: picture.width * view.scale,
      height: picture.height * view.scale,
      transform: `translate(calc(-50% + ${view.x}px), calc(-50% + ${view.y}px))`,
    };
  });
  readonly zoomable = computed(() => this.view() !== null);
  readonly zoomed = computed(() => this.zoom() !== null);
  readonly zoomPercent = computed(() => {
    const view = this.view();
    return view ? PERCENT.format(view.scale) : '';
  });
  readonly zoomLabel = computed(() => {
    if (this.zoomed()) return 'Fit to the screen (0)';
    const picture = this.picture();
    const frame = this.frameSize();
    return picture && frame && fitScale(picture, frame) < 1 ? 'Actual size (double-click)' : 'Zoom in (double-click)';
  });
  /** The original, where the browser can show it and it is not too large to. */
  private readonly originalUrl = computed(() => {
    const job = this.job();
    const media = this.media();
    if (!job || !media?.originalUrl || job.fileType !== 'image' || !DISPLAYABLE_ORIGINALS.has(job.mimeType)) return null;
    if (!media.width || !media.height || media.width * media.height > MAX_ORIGINAL_PIXELS || job.fileSize > MAX_ORIGINAL_BYTES) return null;
    return media.originalUrl;
  });
  readonly originalShown = computed(() => (this.originalWanted() && !this.originalFailed() ? this.originalUrl() : null));
  /** Zoomed to actual size or past the preview's pixels (a boolean: panning does not wake its effect). */
  private readonly needsOriginal = computed(() => {
    const view = this.view();
    const picture = this.picture();
    const preview = this.previewSize();
    if (!view || !picture || !this.zoomed() || !this.originalUrl()) return false;
    return view.scale >= 1 || (preview !== null && picture.width * view.scale > preview.width);
  });
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
    // Each job starts fitted, with its own preview and original.
    effect(() => {
      this.id();
      untracked(() => {
        this.loaded.set(false);
        this.previewSize.set(null);
        this.originalWanted.set(false);
        this.originalLoaded.set(false);
        this.originalFailed.set(false);
        this.panEnd();
        this.animated.set(false);
        this.zoom.set(null);
      });
    });
    // Zoomed to actual size or past the preview's pixels: the original is asked for (once).
    effect(() => {
      if (this.needsOriginal()) untracked(() => this.originalWanted.set(true));
    });
    effect((onCleanup) => {
      const frame = this.frame()?.nativeElement;
      if (!frame || typeof ResizeObserver === 'undefined') return;
      const observer = new ResizeObserver(([entry]) => {
        if (entry) this.frameSize.set({ width: entry.contentRect.width, height: entry.contentRect.height });
      });
      observer.observe(frame);
      onCleanup(() => observer.disconnect());
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
    } else if (!own && this.zoomable() && !event.ctrlKey && !event.metaKey && !event.altKey) {
      // `+` is Shift+= on many layouts; `=` counts too, as in most viewers.
      const step = event.key === '+' || event.key === '=' ? ZOOM_STEP : event.key === '-' ? 1 / ZOOM_STEP : null;
      if (step !== null) {
        event.preventDefault();
        this.zoomBy(step, { x: 0, y: 0 }, true);
      } else if (event.key === '0') {
        event.preventDefault();
        this.animated.set(true);
        this.zoom.set(null);
      }
    }
  }

  /** Fitting to actual size (around the pointer, for a double-click), or back to fitting. */
  toggleZoom(event?: MouseEvent): void {
    const view = this.view();
    const picture = this.picture();
    const frame = this.frameSize();
    if (!view || !picture || !frame) return;
    this.animated.set(true);
    if (this.zoomed()) this.zoom.set(null);
    else this.zoom.set(zoomAround(view, detailScale(picture, frame), event ? this.pointIn(event) : { x: 0, y: 0 }, picture, frame));
  }

  /** The wheel, or a trackpad's pinch (ctrl+wheel), zooms around the pointer. */
  wheelZoom(event: WheelEvent): void {
    if (!this.zoomable()) return;
    event.preventDefault();
    this.zoomBy(wheelFactor(event), this.pointIn(event), false);
  }

  panFrom(event: PointerEvent): void {
    const view = this.view();
    if (!view || !this.zoomed() || (event.pointerType === 'mouse' && event.button !== 0)) return;
    this.pan = { pointerId: event.pointerId, x: event.clientX, y: event.clientY, from: view };
    (event.currentTarget as HTMLElement).setPointerCapture?.(event.pointerId);
    this.animated.set(false);
    this.panning.set(true);
  }

  panTo(event: PointerEvent): void {
    const pan = this.pan;
    const picture = this.picture();
    const frame = this.frameSize();
    if (!pan || pan.pointerId !== event.pointerId || !picture || !frame) return;
    const { from } = pan;
    this.zoom.set(clampZoom({ scale: from.scale, x: from.x + event.clientX - pan.x, y: from.y + event.clientY - pan.y }, picture, frame));
  }

  panEnd(): void {
    this.pan = null;
    this.panning.set(false);
  }

  previewLoaded(event: Event): void {
    const image = event.target as HTMLImageElement;
    this.previewSize.set({ width: image.naturalWidth, height: image.naturalHeight });
    this.loaded.set(true);
  }

  /** Shown once decoded: a large picture shown before that would leave a blank frame or two. */
  originalArrived(event: Event): void {
    const id = this.id();
    void (event.target as HTMLImageElement)
      .decode()
      .catch(() => undefined)
      .then(() => {
        if (this.id() === id) this.originalLoaded.set(true);
      });
  }

  swipeFrom(event: PointerEvent): void {
    // A zoomed picture is dragged, not swiped away.
    this.swipeStart = event.pointerType === 'mouse' || this.zoomed() ? null : { x: event.clientX, y: event.clientY };
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

  /** Zooms by `factor` around `at`; back at fitting, it is fitted (and follows the frame's size). */
  private zoomBy(factor: number, at: Point, animated: boolean): void {
    const view = this.view();
    const picture = this.picture();
    const frame = this.frameSize();
    if (!view || !picture || !frame) return;
    const next = zoomAround(view, view.scale * factor, at, picture, frame);
    this.animated.set(animated);
    this.zoom.set(next.scale <= fitScale(picture, frame) * (1 + 1e-6) ? null : next);
  }

  /** The pointer relative to the frame's centre. */
  private pointIn(event: MouseEvent): Point {
    const frame = this.frame()?.nativeElement;
    if (!frame) return { x: 0, y: 0 };
    const box = frame.getBoundingClientRect();
    return { x: event.clientX - box.left - box.width / 2, y: event.clientY - box.top - box.height / 2 };
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
