import { provideHttpClient } from '@angular/common/http';
import { HttpTestingController, provideHttpClientTesting, TestRequest } from '@angular/common/http/testing';
import { TestBed } from '@angular/core/testing';
import type { JobStatus, JobView } from '@app/shared';
import fc from 'fast-check';
import { FakeJobSocket, provideFakeJobSocket } from '../../testing/fake-job-socket';
import { aJob, anEvent, aPage, at, statusArb } from '../../testing/jobs';
import { changedAt } from './job-events';
import { JobsStore, UNKNOWN_JOB_GRACE_MS } from './jobs.store';

const T = (ms: number) => Date.UTC(2025, 0, 1) + ms;

describe('JobsStore', () => {
  let http: HttpTestingController;
  let socket: FakeJobSocket;
  let store: JobsStore;

  function setUp(): void {
    TestBed.configureTestingModule({ providers: [provideHttpClient(), provideHttpClientTesting(), provideFakeJobSocket(), JobsStore] });
    http = TestBed.inject(HttpTestingController);
    socket = TestBed.inject(FakeJobSocket);
    store = TestBed.inject(JobsStore);
  }

  const listRequest = (status: JobStatus | null = null, cursor: string | null = null): TestRequest =>
    http.expectOne(
      (req) => req.url === '/api/jobs' && req.params.get('status') === status && req.params.get('cursor') === cursor,
      `GET /api/jobs status=${status} cursor=${cursor}`,
    );
  const jobRequest = (id: string) => http.expectOne({ method: 'GET', url: `/api/jobs/${id}` });
  const notFound = { statusCode: 404, error: 'Not Found', message: 'Not found' };
  const ids = () => store.jobs().map((job) => job.id);
  const held = (id: string) => store.jobs().find((job) => job.id === id);

  afterEach(() => {
    http.verify();
    jest.useRealTimers();
  });

  describe('pages', () => {
    beforeEach(setUp);

    it('reads the first page at once and shows it newest first', () => {
      expect(store.loading()).toBe(true);
      const older = aJob({ id: 'a', createdAt: at(1) });
      const newer = aJob({ id: 'b', createdAt: at(2) });
      listRequest().flush(aPage([older, newer], 'c1'));
      expect(ids()).toEqual(['b', 'a']);
      expect(store.loading()).toBe(false);
      expect(store.loaded()).toBe(true);
      expect(store.hasMore()).toBe(true);
    });

    it('reads older pages with the cursor until there are none', () => {
      listRequest().flush(aPage([aJob({ id: 'p1', createdAt: at(10) })], 'c1'));
      store.loadMore();
      expect(store.loadingMore()).toBe(true);
      store.loadMore(); // one page at a time
      listRequest(null, 'c1').flush(aPage([aJob({ id: 'p2', createdAt: at(5) })], null));
      expect(ids()).toEqual(['p1', 'p2']);
      expect(store.hasMore()).toBe(false);
      store.loadMore();
      http.expectNone((req) => req.url === '/api/jobs');
    });

    it('shows a read error and tries again on request', () => {
      listRequest().flush(
        { statusCode: 503, error: 'Service Unavailable', message: 'The database is unavailable.' },
        { status: 503, statusText: 'x' },
      );
      expect(store.error()).toBe('The database is unavailable.');
      store.retryLoad();
      expect(store.error()).toBeNull();
      listRequest().flush(aPage([aJob({ id: 'x' })]));
      expect(ids()).toEqual(['x']);
    });

    it('filters by status on the server, and keeps the filter applied as statuses change', () => {
      listRequest().flush(aPage([aJob({ id: 'q', status: 'queued' }), aJob({ id: 'f', status: 'failed' })]));
      store.setFilter('failed');
      expect(store.filter()).toBe('failed');
      expect(ids()).toEqual(['f']); // what is held already, at once
      const failed = aJob({ id: 'f2', status: 'failed', updatedAt: at(100) });
      listRequest('failed').flush(aPage([failed]));
      expect(ids()).toEqual(['f2']);

      socket.emit(anEvent(failed, 'queued', T(200))); // retried elsewhere: not failed any more
      expect(ids()).toEqual([]);

      store.setFilter(null);
      listRequest(null).flush(aPage([{ ...failed, status: 'queued', updatedAt: at(200) }]));
      expect(ids()).toEqual(['f2']);
    });

    it('a new filter cancels the read of the old one', () => {
      const first = listRequest();
      store.setFilter('completed');
      expect(first.cancelled).toBe(true);
      listRequest('completed').flush(aPage([]));
    });
  });

  describe('live events', () => {
    beforeEach(() => {
      jest.useFakeTimers();
      setUp();
    });

    it('moves a job along as events arrive and ignores older ones', () => {
      const job = aJob({ id: 'j', status: 'queued', updatedAt: at(0) });
      listRequest().flush(aPage([job]));
      socket.emit(anEvent(job, 'processing', T(10)));
      expect(held('j')?.status).toBe('processing');
      socket.emit(anEvent(job, 'completed', T(30), { thumbnailUrl: '/t.jpg', downloadUrl: '/d.jpg' }));
      socket.emit(anEvent(job, 'processing', T(20))); // late
      expect(held('j')).toMatchObject({ status: 'completed', thumbnailUrl: '/t.jpg', downloadUrl: '/d.jpg' });
    });

    it('reads a job it does not know, then applies the events on top', () => {
      listRequest().flush(aPage([]));
      const job = aJob({ id: 'new', status: 'queued', updatedAt: at(0) });
      socket.emit(anEvent(job, 'queued', T(0)));
      socket.emit(anEvent(job, 'processing', T(5)));
      http.expectNone('/api/jobs/new');
      jest.advanceTimersByTime(UNKNOWN_JOB_GRACE_MS);
      jobRequest('new').flush(job); // read before it started processing
      expect(held('new')?.status).toBe('processing');
    });

    it('does not read a job that its upload brings within the grace period', () => {
      listRequest().flush(aPage([]));
      const job = aJob({ id: 'mine', status: 'queued', updatedAt: at(0) });
      socket.emit(anEvent(job, 'processing', T(5)));
      store.addJobs([job]);
      expect(held('mine')?.status).toBe('processing');
      jest.advanceTimersByTime(UNKNOWN_JOB_GRACE_MS * 2);
      http.expectNone('/api/jobs/mine');
    });

    it('asks for an unknown job once, however many events come for it', () => {
      listRequest().flush(aPage([]));
      const job = aJob({ id: 'busy', updatedAt: at(0) });
      for (const [status, ms] of [
        ['queued', 1],
        ['processing', 2],
        ['completed', 3],
      ] as const)
        socket.emit(anEvent(job, status, T(ms)));
      jest.advanceTimersByTime(UNKNOWN_JOB_GRACE_MS);
      jobRequest('busy').flush(job);
      expect(held('busy')?.status).toBe('completed');
    });

    it('does not read unknown jobs the filter would hide anyway', () => {
      store.setFilter('failed');
      expect(listRequest().cancelled).toBe(true);
      listRequest('failed').flush(aPage([]));
      socket.emit(anEvent(aJob({ id: 'other' }), 'processing', T(1)));
      jest.advanceTimersByTime(UNKNOWN_JOB_GRACE_MS);
      http.expectNone('/api/jobs/other');
    });

    it('forgets an unknown job that turns out to be gone', () => {
      listRequest().flush(aPage([]));
      socket.emit(anEvent(aJob({ id: 'gone' }), 'queued', T(1)));
      jest.advanceTimersByTime(UNKNOWN_JOB_GRACE_MS);
      jobRequest('gone').flush(notFound, { status: 404, statusText: 'Not Found' });
      expect(ids()).toEqual([]);
    });
  });

  describe('resynchronising after a reconnection', () => {
    beforeEach(setUp);

    it('reads the first page and every job still in flight again', () => {
      socket.setState('connected');
      const stuck = aJob({ id: 'old-processing', status: 'processing', createdAt: at(1), updatedAt: at(1) });
      const done = aJob({ id: 'old-done', status: 'completed', createdAt: at(2), updatedAt: at(2) });
      const deletedOlder = aJob({ id: 'deleted-older', status: 'queued', createdAt: at(50), updatedAt: at(50) });
      const recent = aJob({ id: 'recent', status: 'queued', createdAt: at(60), updatedAt: at(60) });
      const deletedRecent = aJob({ id: 'deleted-recent', status: 'completed', createdAt: at(65), updatedAt: at(65) });
      listRequest().flush(aPage([deletedRecent, recent, deletedOlder], 'c1'));
      store.loadMore();
      listRequest(null, 'c1').flush(aPage([done, stuck], null));
      expect(ids()).toEqual(['deleted-recent', 'recent', 'deleted-older', 'old-done', 'old-processing']);

      // Offline for a while: events were missed, two jobs were deleted in another tab, one uploaded.
      socket.setState('reconnecting');
      socket.setState('connected');

      const uploadedElsewhere = aJob({ id: 'elsewhere', status: 'queued', createdAt: at(70), updatedAt: at(70) });
      const recentNow = { ...recent, status: 'completed' as const, updatedAt: at(80), thumbnailUrl: '/t', downloadUrl: '/d' };
      listRequest().flush(aPage([uploadedElsewhere, recentNow], 'c2'));
      // Older than that page and not finished: read one by one.
      jobRequest('deleted-older').flush(notFound, { status: 404, statusText: 'Not Found' });
      jobRequest('old-processing').flush({ ...stuck, status: 'failed', errorMessage: 'Timed out', updatedAt: at(90) });

      expect(store.jobs().map((job) => [job.id, job.status])).toEqual([
        ['elsewhere', 'queued'],
        ['recent', 'completed'],
        ['old-done', 'completed'],
        ['old-processing', 'failed'],
      ]);
      expect(store.hasMore()).toBe(false);
    });

    it('does not read again for the connection it started with', () => {
      socket.setState('connected');
      TestBed.resetTestingModule();
      TestBed.configureTestingModule({ providers: [provideHttpClient(), provideHttpClientTesting(), provideFakeJobSocket(), JobsStore] });
      const fresh = TestBed.inject(FakeJobSocket);
      fresh.setState('connected');
      TestBed.inject(JobsStore);
      const controller = TestBed.inject(HttpTestingController);
      expect(controller.match((req) => req.url === '/api/jobs')).toHaveLength(1);
      controller.verify();
      http = controller;
    });

    it('after a first read that failed, the reconnection reads the list', () => {
      listRequest().flush({ message: 'down' }, { status: 0, statusText: 'Unknown Error' });
      expect(store.error()).not.toBeNull();
      socket.setState('connected');
      listRequest().flush(aPage([aJob({ id: 'back' })]));
      expect(ids()).toEqual(['back']);
      expect(store.error()).toBeNull();
    });
  });

  describe('actions', () => {
    beforeEach(setUp);

    it('retry: the job is queued again and busy meanwhile', () => {
      const failed = aJob({ id: 'f', status: 'failed', updatedAt: at(1) });
      listRequest().flush(aPage([failed]));
      store.retry('f').subscribe();
      expect(store.busyIds().has('f')).toBe(true);
      http
        .expectOne({ method: 'POST', url: '/api/jobs/f/retry' })
        .flush({ ...failed, status: 'queued', errorMessage: null, updatedAt: at(2) }, { status: 202, statusText: 'Accepted' });
      expect(held('f')?.status).toBe('queued');
      expect(store.busyIds().has('f')).toBe(false);
    });

    it('retry of a job that is not failed any more: reports it and reads the job', () => {
      const failed = aJob({ id: 'f', status: 'failed', updatedAt: at(1) });
      listRequest().flush(aPage([failed]));
      let status = 0;
      store.retry('f').subscribe({ error: (error: { status: number }) => (status = error.status) });
      http
        .expectOne('/api/jobs/f/retry')
        .flush({ statusCode: 409, error: 'Conflict', message: 'The job is not failed' }, { status: 409, statusText: 'Conflict' });
      expect(status).toBe(409);
      jobRequest('f').flush({ ...failed, status: 'processing', updatedAt: at(3) });
      expect(held('f')?.status).toBe('processing');
    });

    it('delete: the job goes, and late events do not bring it back', () => {
      const job = aJob({ id: 'd', status: 'processing', updatedAt: at(1) });
      listRequest().flush(aPage([job]));
      let deleted = false;
      store.delete('d').subscribe(() => (deleted = true));
      http.expectOne({ method: 'DELETE', url: '/api/jobs/d' }).flush(null, { status: 204, statusText: 'No Content' });
      expect(deleted).toBe(true);
      expect(ids()).toEqual([]);
      socket.emit(anEvent(job, 'completed', T(5)));
      expect(ids()).toEqual([]);
    });

    it('delete of a job that is already gone counts as done', () => {
      listRequest().flush(aPage([aJob({ id: 'd' })]));
      let deleted = false;
      store.delete('d').subscribe(() => (deleted = true));
      http.expectOne('/api/jobs/d').flush(notFound, { status: 404, statusText: 'Not Found' });
      expect(deleted).toBe(true);
      expect(ids()).toEqual([]);
    });

    it('a failed delete keeps the job and reports the error', () => {
      listRequest().flush(aPage([aJob({ id: 'd' })]));
      let failed = false;
      store.delete('d').subscribe({ error: () => (failed = true) });
      http.expectOne('/api/jobs/d').flush({ message: 'down' }, { status: 503, statusText: 'Unavailable' });
      expect(failed).toBe(true);
      expect(ids()).toEqual(['d']);
      expect(store.busyIds().size).toBe(0);
    });

    it('a thumbnail that does not load: reads the job once for a fresh signed URL', () => {
      const job = aJob({ id: 'c', status: 'completed', thumbnailUrl: '/old?exp=1', updatedAt: at(1) });
      listRequest().flush(aPage([job]));
      store.thumbnailFailed(job);
      store.thumbnailFailed(job);
      jobRequest('c').flush({ ...job, thumbnailUrl: '/new?exp=2' });
      expect(held('c')?.thumbnailUrl).toBe('/new?exp=2');
      store.thumbnailFailed(job);
      http.expectNone('/api/jobs/c');
    });
  });

  // Feature: thumbnail-generation-system, Property 28: for any status update received by the
  // client, the state is updated to reflect the new job status (Validates: Requirements 6.4).
  const LIFECYCLE_STAGE: Record<JobStatus, number> = { pending: 0, queued: 1, processing: 2, completed: 3, failed: 3 };

  describe('Property 28: UI state update', () => {
    beforeEach(setUp);

    it('for any events in any order, the store shows each job as its newest event says', () => {
      listRequest().flush(aPage([]));
      let run = 0;
      const scenario = fc.record({
        status: statusArb,
        events: fc
          .uniqueArray(fc.integer({ min: -50_000, max: 50_000 }), { minLength: 1, maxLength: 10 })
          .chain((offsets) => fc.tuple(...offsets.map((offset) => fc.tuple(fc.constant(offset), statusArb))))
          .chain((events) => fc.shuffledSubarray(events, { minLength: events.length })),
      });
      fc.assert(
        fc.property(scenario, ({ status, events }) => {
          run += 1;
          const base = T(run * 1_000_000);
          const job: JobView = aJob({ id: `p28-${run}`, status, updatedAt: new Date(base).toISOString() });
          store.addJobs([job]);
          const seen: number[] = [];
          for (const [offset, eventStatus] of events) {
            socket.emit(anEvent(job, eventStatus, base + offset));
            seen.push(changedAt(held(job.id)!));
          }
          const [newestOffset, newestStatus] = events.reduce((a, b) => (b[0] > a[0] ? b : a));
          const shown = held(job.id)!;
          // Older than the job: ignored. Newer: it wins. At the same instant, the later stage of the
          // lifecycle wins (a tie must not move a job backwards).
          const expected =
            newestOffset > 0 || (newestOffset === 0 && LIFECYCLE_STAGE[newestStatus] > LIFECYCLE_STAGE[status]) ? newestStatus : status;
          expect(shown.status).toBe(expected);
          expect(seen).toEqual([...seen].sort((a, b) => a - b)); // never backwards
        }),
        {
          numRuns: 150,
          // Seen failing once: the newest event at exactly the job's own time, with a later status.
          examples: [
            [
              {
                status: 'pending',
                events: [
                  [-32436, 'pending'],
                  [0, 'failed'],
                ],
              },
            ],
          ],
        },
      );
    });
  });
});
