import { provideHttpClient } from '@angular/common/http';
import { HttpTestingController, provideHttpClientTesting, TestRequest } from '@angular/common/http/testing';
import { TestBed } from '@angular/core/testing';
import { MatDialog } from '@angular/material/dialog';
import { provideRouter, Router, withComponentInputBinding } from '@angular/router';
import { RouterTestingHarness } from '@angular/router/testing';
import { allByTestId, byTestId, queryTestId, text } from '../../testing/dom';
import { provideFakeJobSocket } from '../../testing/fake-job-socket';
import { allFeatures, firstFeatures } from '../../testing/features';
import { aJob, aPage } from '../../testing/jobs';
import { BlankPageComponent } from '../../testing/routes';
import { FeatureSet, provideFeatureSet } from '../http/server-features';
import type { JobStats } from '../jobs/jobs-api.service';
import { provideAppIcons } from '../ui/icons';
import { libraryRoutes } from './library.routes';
import { SEARCH_DEBOUNCE_MS } from './library-toolbar.component';

// Whole pages with the CDK's virtual scroller in jsdom: slow on a busy machine.
jest.setTimeout(30_000);

const STATS: JobStats = {
  total: 1234,
  byStatus: { pending: 0, queued: 3, processing: 1, completed: 1200, failed: 30 },
  byType: { image: 1100, video: 134 },
  bytes: 0,
  quotaBytes: null,
  trashed: 7,
};

describe('LibraryPageComponent', () => {
  let harness: RouterTestingHarness;
  let http: HttpTestingController;

  async function open(url: string, features: FeatureSet): Promise<void> {
    localStorage.clear();
    TestBed.configureTestingModule({
      providers: [
        provideAppIcons(),
        provideHttpClient(),
        provideHttpClientTesting(),
        provideFakeJobSocket(),
        provideFeatureSet(features),
        provideRouter(
          [
            { path: 'login', component: BlankPageComponent },
            { path: '', children: libraryRoutes },
          ],
          withComponentInputBinding(),
        ),
      ],
    });
    http = TestBed.inject(HttpTestingController);
    harness = await RouterTestingHarness.create(url);
  }

  afterEach(() => {
    TestBed.inject(MatDialog).closeAll();
    jest.useRealTimers();
  });

  const page = () => harness.fixture.nativeElement as HTMLElement;
  const settle = async () => {
    await harness.fixture.whenStable();
    harness.fixture.detectChanges();
    await harness.fixture.whenStable();
  };
  /** The list request that is still open (earlier ones were cancelled by a newer query). */
  const list = (): TestRequest => {
    const open = http.match((req) => req.url === '/api/jobs').filter((request) => !request.cancelled);
    expect(open).toHaveLength(1);
    return open[0];
  };
  const params = (request: TestRequest) =>
    Object.fromEntries(request.request.params.keys().map((key) => [key, request.request.params.get(key)]));
  const tiles = () => allByTestId(page(), 'job-tile');
  const tile = (id: string) => tiles().find((each) => each.dataset['jobId'] === id)!;

  describe('on a server with the first API only', () => {
    it('shows no search, sort or type, ignores them in a link, and counts what it holds', async () => {
      await open('/dashboard?q=cat&sort=name&type=video&status=failed', firstFeatures());
      const request = list();
      expect(params(request)).toEqual({ limit: '200', status: 'failed' });
      request.flush(aPage([aJob({ status: 'failed' }), aJob({ status: 'failed' })], 'more'));
      await settle();
      for (const id of ['search-input', 'sort-select', 'type-filter']) expect(queryTestId(page(), id)).toBeNull();
      expect(text(byTestId(page(), 'job-count'))).toBe('2+ jobs');
      expect(text(byTestId(page(), 'status-filter-failed'))).toBe('Failed');
      http.expectNone('/api/jobs/stats');
    });

    it('asks before deleting, since it cannot be undone', async () => {
      await open('/dashboard', firstFeatures());
      const job = aJob({ id: 'd1', status: 'completed', originalFilename: 'a.jpg' });
      list().flush(aPage([job]));
      await settle();
      byTestId<HTMLButtonElement>(tiles()[0], 'select-toggle').click();
      await settle();
      byTestId<HTMLButtonElement>(page(), 'bulk-delete').click();
      await settle();
      expect(text(document.querySelector('mat-dialog-container'))).toContain('This cannot be undone.');
      byTestId<HTMLButtonElement>(document.body, 'confirm-accept').click();
      await settle();
      http.expectOne({ method: 'DELETE', url: '/api/jobs/d1' }).flush(null, { status: 204, statusText: 'No Content' });
      await settle();
      expect(tiles()).toHaveLength(0);
      expect(queryTestId(page(), 'bulk-download')).toBeNull();
    });
  });

  describe('on a server with the whole contract', () => {
    it('takes search, sort, type and status from the URL, sends them, and counts from the stats', async () => {
      await open('/dashboard?q=cat&sort=name&type=video&status=failed', allFeatures());
      http.expectOne('/api/jobs/stats').flush(STATS);
      const request = list();
      expect(params(request)).toEqual({ limit: '200', status: 'failed', type: 'video', q: 'cat', sort: 'name' });
      request.flush(aPage([aJob({ status: 'failed', fileType: 'video', originalFilename: 'cat.mp4' })]));
      await settle();
      expect(byTestId<HTMLInputElement>(page(), 'search-input').value).toBe('cat');
      expect(byTestId<HTMLSelectElement>(page(), 'sort-select').value).toBe('name');
      expect(byTestId<HTMLSelectElement>(page(), 'type-filter').value).toBe('video');
      // Two filters at once: the counts cannot say, so the jobs held are counted.
      expect(text(byTestId(page(), 'job-count'))).toBe('1 job');
      expect(text(byTestId(page(), 'status-filter-failed'))).toBe('Failed 30');
    });

    it('puts what the user picks into the URL, and reads the list again', async () => {
      await open('/dashboard', allFeatures());
      http.expectOne('/api/jobs/stats').flush(STATS);
      list().flush(aPage([aJob()]));
      await settle();
      expect(text(byTestId(page(), 'job-count'))).toBe(`${(1234).toLocaleString()} jobs`);

      const search = byTestId<HTMLInputElement>(page(), 'search-input');
      search.value = 'beach';
      search.dispatchEvent(new Event('input'));
      await new Promise((resolve) => setTimeout(resolve, SEARCH_DEBOUNCE_MS + 50));
      await settle();
      expect(TestBed.inject(Router).url).toBe('/dashboard?q=beach');
      const searched = list();
      expect(params(searched)).toEqual({ limit: '200', q: 'beach' });
      searched.flush(aPage([]));

      const sort = byTestId<HTMLSelectElement>(page(), 'sort-select');
      sort.value = 'size';
      sort.dispatchEvent(new Event('change'));
      await settle();
      expect(TestBed.inject(Router).url).toBe('/dashboard?q=beach&sort=size');
      const sorted = list();
      expect(params(sorted)).toEqual({ limit: '200', q: 'beach', sort: 'size' });
      sorted.flush(aPage([]));
      await settle();
      expect(text(byTestId(page(), 'jobs-empty'))).toBe('No jobs named like “beach”.');
    });

    it('keeps the focus on its job when jobs before it go, and on the next job when its own goes (tiles follow their place)', async () => {
      await open('/dashboard', allFeatures());
      http.expectOne('/api/jobs/stats').flush(STATS);
      list().flush(aPage(['a', 'b', 'c', 'd', 'e', 'f'].map((id) => aJob({ id, status: 'completed' }))));
      await settle();
      const focused = () => document.activeElement as HTMLElement;
      const key = (name: string) => focused().dispatchEvent(new KeyboardEvent('keydown', { key: name, bubbles: true, cancelable: true }));
      const deleteWith = async (ids: string[]) => {
        const remove = http.expectOne({ method: 'POST', url: '/api/jobs/bulk' });
        expect(remove.request.body).toEqual({ action: 'delete', ids });
        remove.flush({ done: ids, skipped: [] });
        await settle();
      };

      const order = tiles().map((each) => each.dataset['jobId']!); // newest first: f, e, d, c, b, a

      // One job selected, the focus on a job after it: Delete takes the selection, and the focused job moves up one place.
      byTestId<HTMLButtonElement>(tile(order[1]), 'select-toggle').click();
      await settle();
      tile(order[3]).focus();
      key('Delete');
      await deleteWith([order[1]]);
      expect(focused().dataset['jobId']).toBe(order[3]);
      expect(focused().dataset['index']).toBe('2');
      expect(focused().getAttribute('tabindex')).toBe('0');

      // Delete on the focused job itself: the focus stays at its place, on the job now there, which is the tab stop.
      key('Delete');
      await deleteWith([order[3]]);
      expect(focused().dataset['jobId']).toBe(order[4]);
      expect(focused().dataset['index']).toBe('2');
      expect(focused().getAttribute('tabindex')).toBe('0');
      expect(tiles().filter((each) => each.getAttribute('tabindex') === '0')).toHaveLength(1);
    });

    it('moves deleted jobs to the trash at once, with Undo in the message', async () => {
      await open('/dashboard', allFeatures());
      http.expectOne('/api/jobs/stats').flush(STATS);
      const job = aJob({ id: 'u1', status: 'completed', originalFilename: 'sunset.jpg' });
      list().flush(aPage([job, aJob({ id: 'u2' })]));
      await settle();
      byTestId<HTMLButtonElement>(tile('u1'), 'select-toggle').click();
      await settle();
      byTestId<HTMLButtonElement>(page(), 'bulk-delete').click();
      const remove = http.expectOne({ method: 'POST', url: '/api/jobs/bulk' });
      expect(remove.request.body).toEqual({ action: 'delete', ids: ['u1'] });
      expect(document.querySelector('mat-dialog-container')).toBeNull();
      remove.flush({ done: ['u1'], skipped: [] });
      await settle();
      expect(tiles().map((tile) => tile.dataset['jobId'])).toEqual(['u2']);
      const snack = document.querySelector('mat-snack-bar-container')!;
      expect(text(snack)).toContain('Moved “sunset.jpg” to the trash.');
      (Array.from(snack.querySelectorAll('button')).find((button) => text(button) === 'Undo') as HTMLButtonElement).click();
      await settle();
      const restore = http.expectOne({ method: 'POST', url: '/api/jobs/bulk' });
      expect(restore.request.body).toEqual({ action: 'restore', ids: ['u1'] });
      restore.flush({ done: ['u1'], skipped: [] });
      http.expectOne('/api/jobs/u1').flush(job);
      await settle();
      expect(
        tiles()
          .map((tile) => tile.dataset['jobId'])
          .sort(),
      ).toEqual(['u1', 'u2']);
    });

    it('offers the zip of the selection, and downloads it from its signed URL', async () => {
      await open('/dashboard', allFeatures());
      http.expectOne('/api/jobs/stats').flush(STATS);
      list().flush(aPage([aJob({ id: 'z1', status: 'completed' }), aJob({ id: 'z2', status: 'completed' })]));
      await settle();
      const clicks: string[] = [];
      jest.spyOn(HTMLAnchorElement.prototype, 'click').mockImplementation(function (this: HTMLAnchorElement) {
        clicks.push(this.getAttribute('href') ?? '');
      });
      for (const tile of tiles()) byTestId<HTMLButtonElement>(tile, 'select-toggle').click();
      await settle();
      byTestId<HTMLButtonElement>(page(), 'bulk-download').click();
      await settle();
      byTestId<HTMLButtonElement>(document.body, 'bulk-download-originals').click();
      const archive = http.expectOne({ method: 'POST', url: '/api/archives' });
      expect(archive.request.body).toEqual({ ids: expect.arrayContaining(['z1', 'z2']), content: 'originals' });
      archive.flush({ url: '/api/archives/a1.zip?sig=x', expiresAt: '2030-01-01T00:00:00.000Z' }, { status: 201, statusText: 'Created' });
      expect(clicks).toEqual(['/api/archives/a1.zip?sig=x']);
    });

    it('/trash lists the trash: restore, delete for good, empty', async () => {
      await open('/trash', allFeatures());
      http.expectOne('/api/jobs/stats').flush(STATS);
      const request = list();
      expect(params(request)).toEqual({ limit: '200', trashed: 'true' });
      request.flush(aPage([aJob({ id: 't1', deletedAt: '2025-01-02T00:00:00.000Z' })]));
      await settle();
      expect(text(byTestId(page(), 'job-count'))).toBe('7 jobs');
      expect(queryTestId(page(), 'empty-trash')).not.toBeNull();
      byTestId<HTMLButtonElement>(tiles()[0], 'select-toggle').click();
      await settle();
      expect(queryTestId(page(), 'bulk-restore')).not.toBeNull();
      expect(queryTestId(page(), 'bulk-delete-forever')).not.toBeNull();
      byTestId<HTMLButtonElement>(page(), 'bulk-restore').click();
      http.expectOne({ method: 'POST', url: '/api/jobs/bulk' }).flush({ done: ['t1'], skipped: [] });
      await settle();
      expect(tiles()).toHaveLength(0);
      expect(text(byTestId(page(), 'jobs-empty'))).toBe('The trash is empty.');
    });

    it('/trash closes the selection bar once the selected jobs are deleted for good', async () => {
      await open('/trash', allFeatures());
      http.expectOne('/api/jobs/stats').flush(STATS);
      list().flush(
        aPage([aJob({ id: 't1', deletedAt: '2025-01-02T00:00:00.000Z' }), aJob({ id: 't2', deletedAt: '2025-01-02T00:00:00.000Z' })]),
      );
      await settle();
      byTestId<HTMLButtonElement>(tile('t1'), 'select-toggle').click();
      await settle();
      byTestId<HTMLButtonElement>(page(), 'bulk-delete-forever').click();
      await settle();
      byTestId<HTMLButtonElement>(document.body, 'confirm-accept').click();
      await settle();
      http.expectOne({ method: 'DELETE', url: '/api/jobs/t1?permanent=true' }).flush(null, { status: 204, statusText: 'No Content' });
      await settle();
      expect(tiles().map((each) => each.dataset['jobId'])).toEqual(['t2']);
      expect(queryTestId(page(), 'bulk-bar')).toBeNull();
    });
  });

  it('/trash on a server without one says so', async () => {
    await open('/trash', firstFeatures());
    http.match((req) => req.url === '/api/jobs');
    await settle();
    expect(text(byTestId(page(), 'jobs-empty'))).toBe('This server deletes jobs at once: it has no trash.');
  });
});
