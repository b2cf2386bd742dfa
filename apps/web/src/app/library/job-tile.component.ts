import { ChangeDetectionStrategy, Component, computed, input, linkedSignal, output, untracked } from '@angular/core';
import { MatProgressSpinner } from '@angular/material/progress-spinner';
import type { JobView } from '@app/shared';
import { jobMedia, thumbnailSrcset } from '../jobs/job-media';
import { JOB_STATUS_TEXT } from '../jobs/job-status-text';
import { thumbhashBackground } from '../jobs/thumbhash-placeholder';
import { formatClock } from '../ui/format-duration';
import { IconComponent } from '../ui/icon.component';

/** A thumbnail that takes longer than this to arrive fades in. */
const FADE_AFTER_MS = 150;

/**
 * One job in the grid: a square with its thumbnail (`srcset` with the 2× rendition, the ThumbHash
 * underneath until it loads), a status overlay while it is not done, the length of a video and its
 * animated preview while the pointer rests on it, and a check mark for selecting.
 *
 * The host is the grid cell: the grid decides which cell is in the tab order (roving tabindex) and
 * handles the keys; the tile reports clicks.
 */
@Component({
  selector: 'app-job-tile',
  changeDetection: ChangeDetectionStrategy.OnPush,
  imports: [IconComponent, MatProgressSpinner],
  host: {
    role: 'gridcell',
    'data-testid': 'job-tile',
    '[attr.data-job-id]': 'peek(job).id',
    '[attr.data-status]': 'peek(job).status',
    '[attr.aria-selected]': 'peek(selected)',
    '[attr.aria-label]': 'peek(label)',
    '[attr.aria-busy]': 'peek(busy)',
    '[attr.tabindex]': 'peek(focusable) ? 0 : -1',
    '[class.selected]': 'peek(selected)',
    '[class.selecting]': 'peek(selecting)',
    '(click)': 'activate.emit($event)',
    '(pointerenter)': 'hover($event, true)',
    '(pointerleave)': 'hover($event, false)',
  },
  template: `
    <div class="media" [style.background-image]="placeholder()">
      @if (src(); as url) {
        <img
          data-testid="thumbnail"
          elementtiming="thumbnail"
          [src]="url"
          [attr.srcset]="srcset()"
          alt=""
          loading="lazy"
          decoding="async"
          draggable="false"
          [class.loaded]="loaded()"
          [class.fade]="fade()"
          (load)="onLoad()"
          (error)="thumbnailFailed.emit()"
        />
      } @else {
        <div class="placeholder" aria-hidden="true">
          @if (processing()) {
            <!-- Its chunk only once something is processing: most first screens show none. -->
            @defer (on immediate) {
              <mat-progress-spinner mode="indeterminate" diameter="32" />
            }
          } @else {
            <app-icon [name]="placeholderIcon()" />
          }
        </div>
      }
      @if (playing(); as url) {
        <img class="animated" data-testid="animated-preview" [src]="url" alt="" draggable="false" />
      }
    </div>
    <!-- In the order the label says them (name, status, duration), so what is seen is what is heard. -->
    <span class="name" aria-hidden="true">{{ job().originalFilename }}</span>
    @if (overlay(); as text) {
      <span class="status" [class.failed]="failed()" aria-hidden="true">
        <app-icon [name]="statusIcon()" />
        {{ text }}
      </span>
    }
    @if (video()) {
      <span class="duration" data-testid="video-badge" aria-hidden="true"><app-icon name="play_arrow" />{{ duration() }}</span>
    }
    <button
      type="button"
      class="check"
      data-testid="select-toggle"
      tabindex="-1"
      [attr.aria-label]="checkLabel()"
      [attr.aria-pressed]="selected()"
      (click)="check.emit($event); $event.stopPropagation()"
    >
      <app-icon [name]="selected() ? 'check_box' : 'check_box_outline_blank'" />
    </button>
  `,
  styleUrl: './job-tile.component.scss',
})
export class JobTileComponent {
  readonly job = input.required<JobView>();
  readonly selected = input(false);
  /** Something is selected: a click selects instead of opening. */
  readonly selecting = input(false);
  /** This tile is the grid's one tab stop. */
  readonly focusable = input(false);
  readonly busy = input(false);
  readonly activate = output<MouseEvent>();
  readonly check = output<MouseEvent>();
  readonly thumbnailFailed = output<void>();

  /**
   * How the host bindings read the inputs: untracked. Host bindings run in the grid's change
   * detection, where each signal read would make the grid's template depend on every tile's inputs
   * (hundreds of producers on one consumer, each read walking their list: 240 ms of a scroll through
   * 10,000 jobs). The inputs change only when the grid sets them, in that same pass, so nothing is missed.
   */
  protected readonly peek = untracked;

  private readonly media = computed(() => jobMedia(this.job()));
  readonly src = computed(() => this.media().thumbnailUrl);
  readonly srcset = computed(() => thumbnailSrcset(this.media()));
  /**
   * The thumbnail asked for: whether it has loaded and since when it is awaited. A new one (the
   * job completed, or the grid gave this tile another job) starts unloaded over the placeholder
   * and fades in when it arrives late (live, or over the network), not from the cache.
   */
  private readonly shown = linkedSignal({
    source: this.src,
    computation: () => ({ loaded: false, fade: false, since: performance.now() }),
  });
  readonly loaded = computed(() => this.shown().loaded);
  readonly fade = computed(() => this.shown().fade);
  readonly placeholder = computed(() => thumbhashBackground(this.media().thumbhash));
  /** The mouse rests on this tile (reset when the grid gives the tile another job). */
  private readonly hovering = linkedSignal({ source: () => this.job().id, computation: () => false });
  readonly playing = computed(() => (this.hovering() ? this.media().animatedPreviewUrl : null));
  readonly processing = computed(() => this.job().status === 'processing');
  readonly failed = computed(() => this.job().status === 'failed');
  readonly placeholderIcon = computed(() => (this.job().fileType === 'video' ? 'movie' : 'image'));
  readonly overlay = computed(() => (this.job().status === 'completed' ? null : JOB_STATUS_TEXT[this.job().status].label));
  readonly statusIcon = computed(() => (this.failed() ? 'error' : this.processing() ? 'sync' : 'schedule'));
  readonly video = computed(() => this.job().fileType === 'video');
  readonly duration = computed(() => {
    const ms = this.media().durationMs;
    return ms === null ? '' : formatClock(ms);
  });
  /**
   * The tile's accessible name: what it shows, in the same order (the name, the status while it is
   * shown, a video's length), then the kind and, for a finished job, its status.
   */
  readonly label = computed(() => {
    const job = this.job();
    const kind = job.fileType === 'video' ? 'Video' : 'Image';
    const status = JOB_STATUS_TEXT[job.status].label;
    const overlay = this.overlay();
    return [job.originalFilename, overlay, this.video() ? this.duration() : '', kind, overlay ? '' : status].filter(Boolean).join(', ');
  });
  readonly checkLabel = computed(() => `Select ${this.job().originalFilename}`);

  onLoad(): void {
    // Fading in from the cache, while scrolling, would put every new tile on a layer of its own.
    const { since } = this.shown();
    this.shown.set({ loaded: true, fade: performance.now() - since > FADE_AFTER_MS, since });
  }

  hover(event: PointerEvent, on: boolean): void {
    if (event.pointerType === 'mouse') this.hovering.set(on);
  }
}
