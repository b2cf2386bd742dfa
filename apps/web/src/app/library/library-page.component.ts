import { ChangeDetectionStrategy, Component, computed, effect, inject, input, untracked, viewChild } from '@angular/core';
import { takeUntilDestroyed } from '@angular/core/rxjs-interop';
import { MatIconModule } from '@angular/material/icon';
import { Router, RouterOutlet } from '@angular/router';
import type { JobView } from '@app/shared';
import { ServerFeatures } from '../http/server-features';
import { JobQuery, paramsFromQuery, queryFromParams, sameQuery } from '../jobs/job-query';
import { JOB_STATUS_TEXT } from '../jobs/job-status-text';
import type { ArchiveContent } from '../jobs/jobs-api.service';
import { JobsStore } from '../jobs/jobs.store';
import { UploadPicker } from '../upload/upload-picker';
import { UploadQueue } from '../upload/upload-queue';
import { BulkBarComponent } from './bulk-bar.component';
import { JobGridComponent, LibraryView } from './job-grid.component';
import { LibraryActions } from './library-actions';
import { LibrarySelection } from './library-selection';
import { LibraryToolbarComponent } from './library-toolbar.component';

/** A routed child that shows one job (the viewer) and says which, so focus can return to its tile. */
interface ShowsJob {
  shownJobId(): string | null;
}

/**
 * /dashboard (the library) and /trash: the user's jobs as a grid or list, with search, filters,
 * sort and view in the URL (so a reload or a shared link keeps them), multi-select with a bulk bar,
 * and the viewer (/jobs/:id) over it. One store per page.
 */
@Component({
  selector: 'app-library-page',
  changeDetection: ChangeDetectionStrategy.OnPush,
  imports: [MatIconModule, RouterOutlet, LibraryToolbarComponent, JobGridComponent, BulkBarComponent],
  providers: [JobsStore, LibrarySelection, LibraryActions],
  templateUrl: './library-page.component.html',
  styleUrl: './library-page.component.scss',
})
export class LibraryPageComponent {
  /** Query parameters and route data, bound by the router. */
  readonly status = input<string>();
  readonly type = input<string>();
  readonly q = input<string>();
  readonly sort = input<string>();
  readonly view = input<string>();
  /** Route data (undefined where the route has none). */
  readonly trash = input<boolean | undefined>(false);
  readonly inTrash = computed(() => this.trash() === true);

  readonly store = inject(JobsStore);
  readonly selection = inject(LibrarySelection);
  readonly actions = inject(LibraryActions);
  readonly features = inject(ServerFeatures);
  readonly picker = inject(UploadPicker, { optional: true });
  private readonly router = inject(Router);
  private readonly grid = viewChild(JobGridComponent);

  readonly layout = computed<LibraryView>(() => (this.view() === 'list' ? 'list' : 'grid'));
  private readonly asked = computed(() => queryFromParams({ status: this.status(), type: this.type(), q: this.q(), sort: this.sort() }));
  /**
   * The features are known, or not needed for this URL: until then the trash, and a link with a
   * search, type or sort, show nothing rather than the wrong jobs.
   */
  readonly ready = computed(() => {
    const asked = this.asked();
    return this.features.loaded() || (!this.inTrash() && asked.q === '' && asked.type === null && asked.sort === 'newest');
  });
  /** The URL's query, less what this server cannot do. */
  readonly query = computed<JobQuery>(() => {
    const asked = this.asked();
    return {
      status: asked.status,
      type: this.features.typeFilter() ? asked.type : null,
      q: this.features.search() ? asked.q : '',
      sort: this.features.sort() ? asked.sort : 'newest',
      trashed: this.inTrash(),
    };
  });
  readonly toolbarFeatures = computed(() => ({
    search: this.features.search(),
    sort: this.features.sort(),
    typeFilter: this.features.typeFilter(),
  }));
  /** The server has no trash: /trash says so instead of listing the library. */
  readonly noTrash = computed(() => this.inTrash() && this.features.loaded() && !this.features.trash());
  readonly selectedJobs = computed(() => {
    if (!this.selection.active()) return [];
    const selected = this.selection.selected();
    return this.store.jobs().filter((job) => selected.has(job.id));
  });
  readonly filtered = computed(() => {
    const query = this.store.query();
    return query.status !== null || query.type !== null || query.q !== '';
  });
  readonly empty = computed(() => this.store.loaded() && !this.store.loading() && this.store.jobs().length === 0 && !this.store.error());
  readonly emptyText = computed(() => {
    const query = this.store.query();
    if (this.inTrash()) return this.filtered() ? 'Nothing in the trash matches.' : 'The trash is empty.';
    if (query.q !== '') return `No jobs named like “${query.q}”.`;
    if (query.status !== null) return `No jobs with status “${JOB_STATUS_TEXT[query.status].label}”.`;
    if (query.type !== null) return query.type === 'image' ? 'No images.' : 'No videos.';
    return null;
  });

  constructor() {
    // What this session uploads joins the library at once (the trash has no use for it).
    inject(UploadQueue, { optional: true })
      ?.uploaded$.pipe(takeUntilDestroyed())
      .subscribe((jobs) => {
        if (!this.inTrash()) this.store.addJobs(jobs);
      });
    // Jobs that leave the list (deleted for good, the trash emptied, gone in another tab) leave
    // the selection too: a bar for nothing selected would stay open with live buttons.
    effect(() => {
      if (this.store.loading()) return;
      const present = new Set(this.store.jobs().map((job) => job.id));
      untracked(() => this.selection.retain(present));
    });
    effect(() => {
      const query = this.query();
      if (!this.ready() || this.noTrash()) return;
      untracked(() => {
        if (!sameQuery(query, this.store.query())) this.selection.clear();
        this.store.setQuery(query);
      });
    });
  }

  /** Changes the URL; the page follows it. */
  setQuery(changes: Partial<JobQuery>): void {
    const next = { ...this.store.query(), ...changes };
    this.selection.clear();
    void this.router.navigate([], { queryParams: paramsFromQuery(next), queryParamsHandling: 'merge', replaceUrl: true });
  }

  setView(view: LibraryView): void {
    void this.router.navigate([], { queryParams: { view: view === 'grid' ? null : view }, queryParamsHandling: 'merge', replaceUrl: true });
  }

  open(job: JobView): void {
    if (this.inTrash()) return;
    void this.router.navigate(['/jobs', job.id], { queryParamsHandling: 'preserve', state: { fromLibrary: true } });
  }

  /** The viewer closed: focus goes back to the tile of the job it showed last. */
  viewerClosed(component: unknown): void {
    const id = (component as Partial<ShowsJob>).shownJobId?.() ?? null;
    if (id) this.grid()?.focusJob(id);
  }

  selectAll(): void {
    this.selection.set(this.store.jobs().map((job) => job.id));
  }

  remove(jobs: readonly JobView[]): void {
    if (this.inTrash()) this.actions.deleteForever(jobs);
    else this.actions.delete(jobs, () => this.selection.clear());
  }

  download(content: ArchiveContent): void {
    this.actions.download(this.selectedJobs(), content);
  }
}
