import { ChangeDetectionStrategy, Component, computed, DestroyRef, inject, input, output } from '@angular/core';
import { takeUntilDestroyed } from '@angular/core/rxjs-interop';
import { MatIconModule } from '@angular/material/icon';
import type { JobStatus } from '@app/shared';
import { debounceTime, distinctUntilChanged, map, Subject } from 'rxjs';
import type { JobQuery, JobSort } from '../jobs/job-query';
import { MAX_SEARCH_LENGTH } from '../jobs/job-query';
import type { JobStats } from '../jobs/jobs-api.service';
import { StatusFilterComponent } from '../jobs/status-filter.component';
import type { LibraryView } from './job-grid.component';
import { LazyTooltipDirective } from '../ui/lazy-tooltip.directive';

/** Typing pauses this long before the search is sent. */
export const SEARCH_DEBOUNCE_MS = 300;
const COUNT = new Intl.NumberFormat();

/** What the toolbar may offer (the server's features). */
export interface ToolbarFeatures {
  search: boolean;
  sort: boolean;
  typeFilter: boolean;
}

const SORT_LABELS: Readonly<Record<JobSort, string>> = {
  newest: 'Newest first',
  oldest: 'Oldest first',
  name: 'Name',
  size: 'Largest first',
};

/**
 * Above the grid: the title with the real count, search by name, image/video filter, sort order,
 * grid or list, refresh, and the status chips with their counts. Each control is there only when
 * the server supports it. Controls wrap onto more lines on narrow screens.
 */
@Component({
  selector: 'app-library-toolbar',
  changeDetection: ChangeDetectionStrategy.OnPush,
  imports: [MatIconModule, LazyTooltipDirective, StatusFilterComponent],
  template: `
    <div class="top">
      <div class="title">
        <h2 id="library-heading">{{ heading() }}</h2>
        <span class="count" data-testid="job-count">{{ count() }}</span>
      </div>
      <div class="tools">
        @if (features().search) {
          <label class="search">
            <mat-icon svgIcon="search" aria-hidden="true" />
            <span class="visually-hidden">Search by file name</span>
            <input
              #search
              type="search"
              data-testid="search-input"
              placeholder="Search by name"
              autocomplete="off"
              spellcheck="false"
              [maxLength]="maxSearch"
              [value]="query().q"
              (input)="typed$.next(search.value)"
              (keydown.enter)="submit(search.value)"
            />
          </label>
        }
        @if (features().typeFilter) {
          <select class="select" data-testid="type-filter" aria-label="Show" (change)="setType($event)">
            <option value="all" [selected]="query().type === null">Images and videos</option>
            <option value="image" [selected]="query().type === 'image'">Images</option>
            <option value="video" [selected]="query().type === 'video'">Videos</option>
          </select>
        }
        @if (features().sort) {
          <select class="select" data-testid="sort-select" aria-label="Sort" (change)="setSort($event)">
            @for (sort of sorts; track sort.value) {
              <option [value]="sort.value" [selected]="sort.value === query().sort">{{ sort.label }}</option>
            }
          </select>
        }
        <div class="views" role="group" aria-label="View">
          <button
            type="button"
            class="app-icon-button"
            data-testid="view-grid"
            aria-label="Grid"
            appTooltip="Grid"
            [attr.aria-pressed]="view() === 'grid'"
            (click)="viewChange.emit('grid')"
          >
            <mat-icon svgIcon="grid_view" />
          </button>
          <button
            type="button"
            class="app-icon-button"
            data-testid="view-list"
            aria-label="List"
            appTooltip="List"
            [attr.aria-pressed]="view() === 'list'"
            (click)="viewChange.emit('list')"
          >
            <mat-icon svgIcon="view_list" />
          </button>
        </div>
        <button
          type="button"
          class="app-icon-button refresh"
          data-testid="refresh-button"
          aria-label="Refresh the list"
          appTooltip="Refresh"
          [disabled]="loading()"
          (click)="refresh.emit()"
        >
          <mat-icon svgIcon="refresh" />
        </button>
      </div>
    </div>
    <app-status-filter [value]="query().status" [stats]="trash() ? null : stats()" (valueChange)="setStatus($event)" />
  `,
  styleUrl: './library-toolbar.component.scss',
})
export class LibraryToolbarComponent {
  readonly trash = input(false);
  readonly query = input.required<JobQuery>();
  readonly stats = input<JobStats | null>(null);
  /** How many jobs match on the server, when the counts say; otherwise what is held is counted. */
  readonly total = input<number | null>(null);
  readonly shown = input(0);
  readonly hasMore = input(false);
  readonly loading = input(false);
  readonly view = input<LibraryView>('grid');
  readonly features = input<ToolbarFeatures>({ search: false, sort: false, typeFilter: false });
  readonly queryChange = output<Partial<JobQuery>>();
  readonly viewChange = output<LibraryView>();
  readonly refresh = output<void>();

  readonly maxSearch = MAX_SEARCH_LENGTH;
  readonly sorts = (Object.keys(SORT_LABELS) as JobSort[]).map((value) => ({ value, label: SORT_LABELS[value] }));
  readonly typed$ = new Subject<string>();

  readonly heading = computed(() => (this.trash() ? 'Trash' : 'Library'));
  readonly count = computed(() => {
    const total = this.total();
    if (total !== null) return `${COUNT.format(total)} ${total === 1 ? 'job' : 'jobs'}`;
    const shown = this.shown();
    const more = this.hasMore() ? '+' : '';
    return `${COUNT.format(shown)}${more} ${shown === 1 && !more ? 'job' : 'jobs'}`;
  });

  constructor() {
    this.typed$
      .pipe(
        debounceTime(SEARCH_DEBOUNCE_MS),
        map((text) => text.trim()),
        distinctUntilChanged(),
        takeUntilDestroyed(inject(DestroyRef)),
      )
      .subscribe((q) => this.emitSearch(q));
  }

  submit(text: string): void {
    this.emitSearch(text.trim());
  }

  setStatus(status: JobStatus | null): void {
    this.queryChange.emit({ status });
  }

  setType(event: Event): void {
    const value = (event.target as HTMLSelectElement).value;
    this.queryChange.emit({ type: value === 'image' || value === 'video' ? value : null });
  }

  setSort(event: Event): void {
    this.queryChange.emit({ sort: (event.target as HTMLSelectElement).value as JobSort });
  }

  private emitSearch(q: string): void {
    if (q !== this.query().q) this.queryChange.emit({ q });
  }
}
