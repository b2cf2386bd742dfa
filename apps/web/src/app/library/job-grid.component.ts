import { CdkVirtualScrollViewport, ScrollingModule } from '@angular/cdk/scrolling';
import {
  afterNextRender,
  afterRenderEffect,
  ChangeDetectionStrategy,
  Component,
  computed,
  DestroyRef,
  ElementRef,
  inject,
  Injector,
  input,
  output,
  signal,
  untracked,
  viewChild,
} from '@angular/core';
import { takeUntilDestroyed } from '@angular/core/rxjs-interop';
import type { JobView } from '@app/shared';
import { JobRowComponent } from '../jobs/job-row.component';
import { JobsStore } from '../jobs/jobs.store';
import { JobTileComponent } from './job-tile.component';
import { LibrarySelection } from './library-selection';

export type LibraryView = 'grid' | 'list';

/** Gap between tiles, pixels. */
const GAP = 4;
/** Smallest tile edge: phones (below 600 px) and larger screens. */
const MIN_TILE_PHONE = 104;
const MIN_TILE = 152;
/** Height of a row in the list view. */
const LIST_ROW = 72;
const LIST_ROW_PHONE = 88;
/** Rows of jobs rendered beyond the visible ones, in pixels (the CDK's buffers). */
const MIN_BUFFER_PX = 600;
const MAX_BUFFER_PX = 1200;
/**
 * Rows scrolled out of the rendered range that are kept to be filled with the rows scrolling in:
 * their tiles then show other jobs (a row's tiles follow their place, not their job) instead of
 * being destroyed and created, which is most of the cost of a scrolled frame and of its garbage.
 */
const ROW_CACHE = 20;
/** Ask for the next page when the rendered rows come this close to the last one held. */
const LOAD_AHEAD_ROWS = 6;

interface GridRow {
  /** Index of the row's first job in the list. */
  readonly first: number;
  readonly jobs: readonly JobView[];
}

/**
 * The jobs of a {@link JobsStore} as a dense grid of square tiles (or as a list), virtualised with
 * the CDK so that only the rows near the screen exist: 10,000 jobs scroll like 50. Rows are
 * fixed-height (tile edge + gap, or the list row) and hold as many tiles as fit the width.
 *
 * An ARIA grid: one cell is in the tab order (roving tabindex); arrows, Home/End and Page Up/Down
 * move, Shift with them extends the selection, Space selects, Enter opens, Ctrl/⌘+A selects all,
 * Esc clears the selection, Delete deletes. Clicks: plain opens (or selects while something is
 * selected), Shift selects a range, Ctrl/⌘ toggles, the check mark toggles.
 */
@Component({
  selector: 'app-job-grid',
  changeDetection: ChangeDetectionStrategy.OnPush,
  imports: [ScrollingModule, JobTileComponent, JobRowComponent],
  host: {
    '[class.list]': 'view() === "list"',
    '(keydown)': 'onKeydown($event)',
    '(focusin)': 'onFocusIn($event)',
  },
  template: `
    <cdk-virtual-scroll-viewport
      scrollWindow
      role="grid"
      data-testid="job-grid"
      aria-multiselectable="true"
      [attr.aria-label]="label()"
      [attr.aria-rowcount]="rowCount()"
      [attr.aria-colcount]="columns()"
      [attr.data-view]="view()"
      [itemSize]="rowHeight()"
      [minBufferPx]="minBuffer"
      [maxBufferPx]="maxBuffer"
    >
      <div
        *cdkVirtualFor="let row of rows(); let r = index; trackBy: trackRow; templateCacheSize: rowCache"
        class="row"
        role="row"
        [attr.aria-rowindex]="r + 1"
        [style.height.px]="rowHeight()"
        [style.grid-template-columns]="template()"
      >
        @for (job of row.jobs; track $index; let c = $index) {
          @if (view() === 'list') {
            <!-- The list's rows load when the list is first chosen. -->
            @defer (on immediate) {
              <app-job-row
                role="gridcell"
                [attr.data-index]="row.first + c"
                [attr.tabindex]="row.first + c === activeIndex() ? 0 : -1"
                [attr.aria-selected]="selected().has(job.id)"
                [job]="job"
                [busy]="busy().has(job.id)"
                [selected]="selected().has(job.id)"
                (check)="check(job, $event)"
                (activate)="click(job, $event)"
                (retry)="retry.emit(job)"
                (remove)="remove.emit([job])"
                (thumbnailFailed)="store.thumbnailFailed(job)"
              />
            }
          } @else {
            <app-job-tile
              [attr.data-index]="row.first + c"
              [job]="job"
              [busy]="busy().has(job.id)"
              [selected]="selected().has(job.id)"
              [selecting]="selecting()"
              [focusable]="row.first + c === activeIndex()"
              (check)="check(job, $event)"
              (activate)="click(job, $event)"
              (thumbnailFailed)="store.thumbnailFailed(job)"
            />
          }
        }
      </div>
    </cdk-virtual-scroll-viewport>
  `,
  styles: `
    :host {
      display: block;
    }
    :host ::ng-deep .cdk-virtual-scroll-content-wrapper {
      will-change: transform;
    }
    .row {
      display: grid;
      gap: ${GAP}px;
      padding-bottom: ${GAP}px;
      box-sizing: border-box;
      contain: strict;
    }
    :host(.list) .row {
      padding-bottom: 0;
      border-bottom: 1px solid var(--mat-sys-outline-variant);
    }
  `,
})
export class JobGridComponent {
  readonly jobs = input.required<readonly JobView[]>();
  readonly view = input<LibraryView>('grid');
  readonly label = input('Library');
  readonly open = output<JobView>();
  readonly retry = output<JobView>();
  /** Delete these (the selection, or the job in focus). */
  readonly remove = output<readonly JobView[]>();

  readonly store = inject(JobsStore);
  private readonly selection = inject(LibrarySelection);
  private readonly host = inject<ElementRef<HTMLElement>>(ElementRef).nativeElement;
  private readonly injector = inject(Injector);
  private readonly viewport = viewChild.required(CdkVirtualScrollViewport);

  readonly minBuffer = MIN_BUFFER_PX;
  readonly maxBuffer = MAX_BUFFER_PX;
  readonly rowCache = ROW_CACHE;
  /** Width available to the grid, from a ResizeObserver (jsdom has none: a laptop's). */
  private readonly width = signal(1024);
  private readonly activeId = signal<string | null>(null);

  readonly selected = this.selection.selected;
  readonly selecting = this.selection.active;
  readonly busy = this.store.busyIds;
  private readonly phone = computed(() => this.width() < 600);
  readonly columns = computed(() => {
    if (this.view() === 'list') return 1;
    const min = this.phone() ? MIN_TILE_PHONE : MIN_TILE;
    return Math.max(2, Math.floor((this.width() + GAP) / (min + GAP)));
  });
  private readonly tile = computed(() => (this.width() - GAP * (this.columns() - 1)) / this.columns());
  readonly rowHeight = computed(() => {
    if (this.view() === 'list') return this.phone() ? LIST_ROW_PHONE : LIST_ROW;
    return Math.floor(this.tile()) + GAP;
  });
  readonly template = computed(() => `repeat(${this.columns()}, minmax(0, 1fr))`);
  readonly rows = computed<GridRow[]>(() => {
    const jobs = this.jobs();
    const columns = this.columns();
    const rows: GridRow[] = [];
    for (let first = 0; first < jobs.length; first += columns) rows.push({ first, jobs: jobs.slice(first, first + columns) });
    return rows;
  });
  readonly rowCount = computed(() => this.rows().length);
  /** The cell in the tab order: the last one focused, else the first. */
  readonly activeIndex = computed(() => {
    const id = this.activeId();
    const index = id === null ? -1 : this.jobs().findIndex((job) => job.id === id);
    return Math.max(0, index);
  });

  constructor() {
    const destroyRef = inject(DestroyRef);
    // A row's tiles follow their place, not their job: when jobs come or go before the focused
    // cell, it shows another job. The focus follows its job; when that job is gone, it stays at its
    // place, on the job now there.
    afterRenderEffect(() => {
      const jobs = this.jobs();
      untracked(() => this.keepFocusOnItsJob(jobs));
    });
    afterNextRender(() => {
      if (typeof ResizeObserver !== 'undefined') {
        const observer = new ResizeObserver(([entry]) => this.width.set(Math.max(1, Math.floor(entry.contentRect.width))));
        observer.observe(this.host);
        destroyRef.onDestroy(() => observer.disconnect());
      }
      // Older pages as the rendered rows near the end of what is held.
      this.viewport()
        .renderedRangeStream.pipe(takeUntilDestroyed(destroyRef))
        .subscribe((range) => {
          if (range.end >= this.rows().length - LOAD_AHEAD_ROWS) this.store.loadMore();
        });
    });
  }

  trackRow = (_index: number, row: GridRow): string => `${row.first}:${row.jobs[0]?.id ?? ''}`;

  /** Moves the tab stop to a job and focuses it (scrolling it into view first when it is not rendered). */
  focusJob(id: string): void {
    const index = this.jobs().findIndex((job) => job.id === id);
    if (index >= 0) this.focusIndex(index);
  }

  click(job: JobView, event: MouseEvent): void {
    this.activeId.set(job.id);
    if (event.shiftKey) {
      event.preventDefault();
      this.selection.selectRange(this.order(), job.id);
    } else if (event.ctrlKey || event.metaKey || this.selection.active()) {
      this.selection.toggle(job.id);
    } else {
      this.open.emit(job);
    }
  }

  check(job: JobView, event: MouseEvent): void {
    this.activeId.set(job.id);
    if (event.shiftKey) this.selection.selectRange(this.order(), job.id);
    else this.selection.toggle(job.id);
  }

  onFocusIn(event: FocusEvent): void {
    const index = this.cellIndex(event.target);
    if (index !== null) this.activeId.set(this.jobs()[index]?.id ?? null);
  }

  onKeydown(event: KeyboardEvent): void {
    const index = this.cellIndex(event.target);
    const jobs = this.jobs();
    if (index === null || jobs.length === 0) return;
    const job = jobs[index];
    const columns = this.columns();
    const page = Math.max(1, Math.floor(window.innerHeight / this.rowHeight()) - 1) * columns;
    const command = event.ctrlKey || event.metaKey;
    let target: number;
    switch (event.key) {
      case 'ArrowRight':
        target = index + 1;
        break;
      case 'ArrowLeft':
        target = index - 1;
        break;
      case 'ArrowDown':
        target = index + columns;
        break;
      case 'ArrowUp':
        target = index - columns;
        break;
      case 'Home':
        target = command ? 0 : index - (index % columns);
        break;
      case 'End':
        target = command ? jobs.length - 1 : Math.min(jobs.length - 1, index - (index % columns) + columns - 1);
        break;
      case 'PageDown':
        target = index + page;
        break;
      case 'PageUp':
        target = index - page;
        break;
      case ' ':
        event.preventDefault();
        if (event.shiftKey) this.selection.selectRange(this.order(), job.id);
        else this.selection.toggle(job.id);
        return;
      case 'Enter':
        event.preventDefault();
        this.open.emit(job);
        return;
      case 'Escape':
        if (this.selection.active()) {
          event.preventDefault();
          this.selection.clear();
        }
        return;
      case 'Delete':
        event.preventDefault();
        this.remove.emit(this.selection.active() ? jobs.filter((each) => this.selection.has(each.id)) : [job]);
        return;
      default:
        if (command && event.key.toLowerCase() === 'a') {
          event.preventDefault();
          this.selection.set(jobs.map((each) => each.id));
        }
        return;
    }
    event.preventDefault();
    const clamped = Math.min(jobs.length - 1, Math.max(0, target));
    if (event.shiftKey) this.selection.selectRange(this.order(), jobs[clamped].id);
    this.focusIndex(clamped);
  }

  private focusIndex(index: number): void {
    const job = this.jobs()[index];
    if (!job) return;
    this.activeId.set(job.id);
    const cell = this.cell(index);
    if (cell) {
      cell.focus();
      return;
    }
    // Not rendered: bring its row into view, then focus it once rendered.
    const viewport = this.viewport().elementRef.nativeElement;
    const row = Math.floor(index / this.columns());
    const top = viewport.getBoundingClientRect().top + window.scrollY + row * this.rowHeight();
    window.scrollTo({ top: Math.max(0, top - window.innerHeight / 3) });
    this.viewport().checkViewportSize();
    afterNextRender(() => this.cell(index)?.focus(), { injector: this.injector });
  }

  private keepFocusOnItsJob(jobs: readonly JobView[]): void {
    const focused = this.host.ownerDocument.activeElement?.closest<HTMLElement>('[data-index]');
    if (!focused || !this.host.contains(focused)) return;
    const id = this.activeId();
    const index = this.cellIndex(focused);
    if (id === null || index === null || jobs[index]?.id === id) return;
    const moved = jobs.findIndex((job) => job.id === id);
    if (moved >= 0) this.focusIndex(moved);
    else this.activeId.set(jobs[index]?.id ?? null);
  }

  private cell(index: number): HTMLElement | null {
    return this.host.querySelector<HTMLElement>(`[data-index="${index}"]`);
  }

  /** The index of the grid cell an event happened on (not on a control inside it). */
  private cellIndex(target: EventTarget | null): number | null {
    if (!(target instanceof HTMLElement) || !target.hasAttribute('data-index')) return null;
    const index = Number(target.dataset['index']);
    return Number.isInteger(index) ? index : null;
  }

  private order(): string[] {
    return this.jobs().map((job) => job.id);
  }
}
