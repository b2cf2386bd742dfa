import { provideHttpClient } from '@angular/common/http';
import { HttpTestingController, provideHttpClientTesting, TestRequest } from '@angular/common/http/testing';
import { ComponentFixture, TestBed } from '@angular/core/testing';
import { MatDialog } from '@angular/material/dialog';
import type { JobStatus, JobView } from '@app/shared';
import fc from 'fast-check';
import { allByTestId, byTestId, queryTestId, text } from '../../testing/dom';
import { FakeJobSocket, provideFakeJobSocket } from '../../testing/fake-job-socket';
import { aJob, anEvent, aPage, at, jobListArb, statusArb } from '../../testing/jobs';
import { provideAppIcons } from '../ui/icons';
import { newestFirst } from './job-collection';
import { JobListComponent } from './job-list.component';
import { JOB_STATUS_TEXT } from './job-status-text';
import { JobsStore } from './jobs.store';
import { provideFeatureSet } from '../http/server-features';

describe('JobListComponent', () => {
  let fixture: ComponentFixture<JobListComponent>;
  let http: HttpTestingController;
  let socket: FakeJobSocket;

  beforeEach(() => {
    TestBed.configureTestingModule({
      providers: [
        provideAppIcons(),
        provideHttpClient(),
        provideHttpClientTesting(),
        provideFakeJobSocket(),
        provideFeatureSet(),
        JobsStore,
      ],
    });
    http = TestBed.inject(HttpTestingController);
    socket = TestBed.inject(FakeJobSocket);
    fixture = TestBed.createComponent(JobListComponent);
    fixture.detectChanges();
  });

  afterEach(() => {
    TestBed.inject(MatDialog).closeAll();
    http.verify();
  });

  const list = (status: JobStatus | null = null, cursor: string | null = null): TestRequest =>
    http.expectOne((req) => req.url === '/api/jobs' && req.params.get('status') === status && req.params.get('cursor') === cursor);
  const render = () => fixture.detectChanges();
  const rows = () => allByTestId(fixture, 'job-row');
  const row = (id: string) => rows().find((element) => element.dataset['jobId'] === id);
  const overlay = () => document.querySelector('.cdk-overlay-container') as HTMLElement;
  const settle = async () => {
    await fixture.whenStable();
    render();
  };

  it('shows the first page, with a count', () => {
    list().flush(aPage([aJob({ id: 'a', createdAt: at(1) }), aJob({ id: 'b', createdAt: at(2) })]));
    render();
    expect(rows().map((element) => element.dataset['jobId'])).toEqual(['b', 'a']);
    expect(text(byTestId(fixture, 'job-count'))).toBe('2 jobs');
  });

  it('says when there is nothing yet, and when a filter matches nothing', () => {
    list().flush(aPage([]));
    render();
    expect(text(byTestId(fixture, 'jobs-empty'))).toMatch(/^No jobs yet/);
    byTestId(fixture, 'status-filter-completed').querySelector('button')!.click();
    list('completed').flush(aPage([]));
    render();
    expect(text(byTestId(fixture, 'jobs-empty'))).toBe('No jobs with status “Done”.');
  });

  it('shows a read error with a way to try again', () => {
    list().flush({ statusCode: 500, error: 'Internal Server Error', message: 'Internal server error' }, { status: 500, statusText: 'x' });
    render();
    const alert = byTestId(fixture, 'jobs-error');
    expect(text(alert)).toContain('Internal server error.');
    alert.querySelector('button')!.click();
    list().flush(aPage([aJob({ id: 'x' })]));
    render();
    expect(queryTestId(fixture, 'jobs-error')).toBeNull();
    expect(rows()).toHaveLength(1);
  });

  it('filters by status through the API', () => {
    list().flush(aPage([aJob({ status: 'completed' }), aJob({ id: 'f1', status: 'failed' })]));
    render();
    byTestId(fixture, 'status-filter-failed').querySelector('button')!.click();
    render();
    expect(rows().map((element) => element.dataset['status'])).toEqual(['failed']);
    list('failed').flush(aPage([aJob({ id: 'f1', status: 'failed' }), aJob({ id: 'f2', status: 'failed', createdAt: at(-1) })]));
    render();
    expect(rows().map((element) => element.dataset['jobId'])).toEqual(['f1', 'f2']);
    expect(byTestId(fixture, 'status-filter').dataset['value']).toBe('failed');
  });

  it('pages with the cursor until the last page', () => {
    list().flush(aPage([aJob({ id: 'new', createdAt: at(10) })], 'next-1'));
    render();
    expect(text(byTestId(fixture, 'job-count'))).toBe('1+ jobs');
    byTestId<HTMLButtonElement>(fixture, 'load-more').click();
    render();
    expect(byTestId<HTMLButtonElement>(fixture, 'load-more').disabled).toBe(true);
    list(null, 'next-1').flush(aPage([aJob({ id: 'old', createdAt: at(1) })], null));
    render();
    expect(rows().map((element) => element.dataset['jobId'])).toEqual(['new', 'old']);
    expect(queryTestId(fixture, 'load-more')).toBeNull();
  });

  it('badges change live, and the thumbnail appears when the job completes', () => {
    const job = aJob({ id: 'live', status: 'queued', updatedAt: at(0) });
    list().flush(aPage([job]));
    render();
    const badge = () => byTestId(row('live')!, 'status-badge');
    expect(badge().dataset['status']).toBe('queued');

    socket.emit(anEvent(job, 'processing', Date.parse(at(10))));
    render();
    expect(row('live')!.dataset['status']).toBe('processing');
    expect(text(badge())).toBe('Processing');
    expect(queryTestId(row('live')!, 'thumbnail')).toBeNull();

    socket.emit(
      anEvent(job, 'completed', Date.parse(at(20)), {
        thumbnailUrl: '/api/thumbnails/live.jpg?sig=1',
        downloadUrl: '/api/download/live.jpg?sig=1',
      }),
    );
    render();
    expect(text(badge())).toBe('Done');
    expect(byTestId<HTMLImageElement>(row('live')!, 'thumbnail').getAttribute('src')).toBe('/api/thumbnails/live.jpg?sig=1');
    expect(byTestId<HTMLAnchorElement>(row('live')!, 'download-link').getAttribute('href')).toBe('/api/download/live.jpg?sig=1');
  });

  it('deletes after confirmation, and not without', async () => {
    list().flush(aPage([aJob({ id: 'd', originalFilename: 'cat.png' })]));
    render();

    byTestId<HTMLButtonElement>(row('d')!, 'delete-button').click();
    await settle();
    expect(text(overlay())).toContain('“cat.png”, its thumbnail and the uploaded file will be deleted.');
    byTestId<HTMLButtonElement>(overlay(), 'confirm-cancel').click();
    await settle();
    http.expectNone('/api/jobs/d');

    byTestId<HTMLButtonElement>(row('d')!, 'delete-button').click();
    await settle();
    allByTestId<HTMLButtonElement>(overlay(), 'confirm-accept').at(-1)!.click(); // the first dialog may still be fading out
    await settle();
    http.expectOne({ method: 'DELETE', url: '/api/jobs/d' }).flush(null, { status: 204, statusText: 'No Content' });
    await settle();
    expect(rows()).toHaveLength(0);
    expect(text(overlay())).toContain('Deleted “cat.png”.');
  });

  it('retries a failed job and says so', async () => {
    const failed = aJob({ id: 'r', status: 'failed', originalFilename: 'clip.mp4', updatedAt: at(1) });
    list().flush(aPage([failed]));
    render();
    byTestId<HTMLButtonElement>(row('r')!, 'retry-button').click();
    render();
    expect(byTestId<HTMLButtonElement>(row('r')!, 'retry-button').disabled).toBe(true);
    http
      .expectOne({ method: 'POST', url: '/api/jobs/r/retry' })
      .flush({ ...failed, status: 'queued', errorMessage: null, updatedAt: at(2) }, { status: 202, statusText: 'Accepted' });
    await settle();
    expect(row('r')!.dataset['status']).toBe('queued');
    expect(queryTestId(row('r')!, 'job-error')).toBeNull();
    expect(text(overlay())).toContain('“clip.mp4” is queued again.');
  });

  // Feature: thumbnail-generation-system, Property 33: for any user's job list view, all jobs are
  // displayed with their current status and thumbnails where available (Validates: Requirements 7.5).
  describe('Property 33: job list completeness', () => {
    it('for any list of jobs, every job has one row, newest first, with its status and its thumbnail when completed', () => {
      list().flush(aPage([]));
      fc.assert(
        fc.property(jobListArb(25), (jobs) => {
          fixture.componentInstance.store.reload();
          list().flush(aPage(jobs));
          render();
          const expected = [...jobs].sort(newestFirst);
          const shown = rows();
          expect(shown.map((element) => element.dataset['jobId'])).toEqual(expected.map((job) => job.id));
          shown.forEach((element, index) => {
            const job = expected[index];
            expect(element.dataset['status']).toBe(job.status);
            expect(text(byTestId(element, 'status-badge'))).toBe(JOB_STATUS_TEXT[job.status].label);
            const img = queryTestId<HTMLImageElement>(element, 'thumbnail');
            expect(img?.getAttribute('src') ?? null).toBe(job.status === 'completed' ? job.thumbnailUrl : null);
            expect(queryTestId(element, 'job-error') !== null).toBe(job.status === 'failed');
          });
        }),
        { numRuns: 100 },
      );
    });
  });

  // Property 28 once more, as the user sees it: the row, not the store.
  describe('Property 28: UI state update (rendered)', () => {
    it('for any events in any order, the row shows the status of the newest one', () => {
      list().flush(aPage([]));
      let run = 0;
      fc.assert(
        fc.property(
          fc
            .uniqueArray(fc.integer({ min: 1, max: 100_000 }), { minLength: 1, maxLength: 8 })
            .chain((times) => fc.tuple(...times.map((time) => fc.tuple(fc.constant(time), statusArb))))
            .chain((events) => fc.shuffledSubarray(events, { minLength: events.length })),
          (events) => {
            run += 1;
            const base = Date.UTC(2026, 0, 1) + run * 1_000_000;
            const job: JobView = aJob({ id: `row-${run}`, status: 'pending', updatedAt: new Date(base).toISOString() });
            fixture.componentInstance.store.addJobs([job]);
            for (const [offset, status] of events) socket.emit(anEvent(job, status, base + offset));
            render();
            const newest = events.reduce((a, b) => (b[0] > a[0] ? b : a));
            expect(row(job.id)?.dataset['status']).toBe(newest[1]);
            expect(byTestId(row(job.id)!, 'status-badge').dataset['status']).toBe(newest[1]);
          },
        ),
        { numRuns: 100 },
      );
    });
  });
});
