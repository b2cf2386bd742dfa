import { provideHttpClient } from '@angular/common/http';
import { HttpTestingController, provideHttpClientTesting, TestRequest } from '@angular/common/http/testing';
import { TestBed } from '@angular/core/testing';
import type { JobStatus, JobView } from '@app/shared';
import fc from 'fast-check';
import { FakeJobSocket, provideFakeJobSocket } from '../../testing/fake-job-socket';
import { aJob, anEvent, aPage, at, statusArb } from '../../testing/jobs';
import { changedAt } from './job-events';
import { BulkResult, JobStats } from './jobs-api.service';
import { FIRST_CONNECTION_MS, JobsStore, STATS_REFRESH_MS, UNKNOWN_JOB_GRACE_MS } from './jobs.store';
import { allFeatures, firstFeatures } from '../../testing/features';
import { provideFeatureSet } from '../http/server-features';

const T = (ms: number) => Date.UTC(2025, 0, 1) + ms;

describe('JobsStore', () => {
  let http: HttpTestingController;
  let socket: FakeJobSocket;
  let store: JobsStore;

  function setUp(): void {
    TestBed.configureTestingModule({
      providers: [provideHttpClient(), provideHttpClientTesting(), provideFakeJobSocket(), provideFeatureSet(), JobsStore],
    });
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
      TestBed.configureTestingModule({
        providers: [provideHttpClient(), provideHttpClientTesting(), provideFakeJobSocket(), provideFeatureSet(), JobsStore],
      });
      const fresh = TestBed.inject(FakeJobSocket);
      fresh.setState('connected');
      TestBed.inject(JobsStore);
      const controller = TestBed.inject(HttpTestingController);
      expect(controller.match((req) => req.url === '/api/jobs')).toHaveLength(1);
      controller.verify();
      http = controller;
    });

    it('reads only the jobs in flight again when the page first connects after its first read, then the first page after a drop', () => {
      const working = aJob({ id: 'working', status: 'processing', createdAt: at(2), updatedAt: at(2) });
      const done = aJob({ id: 'done', status: 'completed', createdAt: at(1), updatedAt: at(1) });
      listRequest().flush(aPage([working, done], null));
      // The socket was still connecting: the job may have finished in between, the page is current.
      socket.setState('reconnecting');
      socket.setState('connected');
      http.expectNone((req) => req.url === '/api/jobs');
      jobRequest('working').flush({ ...working, status: 'completed', updatedAt: at(5), thumbnailUrl: '/t', downloadUrl: '/d' });
      expect(store.jobs().map((job) => [job.id, job.status])).toEqual([
        ['working', 'completed'],
        ['done', 'completed'],
      ]);

      socket.setState('reconnecting');
      socket.setState('connected');
      listRequest().flush(
        aPage([{ ...working, status: 'completed', updatedAt: at(5), thumbnailUrl: '/t', downloadUrl: '/d' }, done], null),
      );
    });

    it('reads the first page again when its first connection comes late (the api was restarting as the page opened)', () => {
      const working = aJob({ id: 'working', status: 'processing', createdAt: at(2), updatedAt: at(2) });
      listRequest().flush(aPage([working], null));
      const clock = jest.spyOn(Date, 'now').mockReturnValue(Date.now() + FIRST_CONNECTION_MS + 1);
      try {
        socket.setState('reconnecting');
        socket.setState('connected');
      } finally {
        clock.mockRestore();
      }
      // Jobs uploaded or deleted elsewhere meanwhile are in this answer.
      const elsewhere = aJob({ id: 'elsewhere', status: 'completed', createdAt: at(9), updatedAt: at(9) });
      listRequest().flush(aPage([elsewhere, { ...working, status: 'completed', updatedAt: at(5) }], null));
      expect(ids()).toEqual(['elsewhere', 'working']);
    });

    it('reads the first page again at the first connection when many jobs are in flight (cheaper than one read each)', () => {
      const many = Array.from({ length: 5 }, (_, i) => aJob({ id: `q${i}`, status: 'queued', createdAt: at(i), updatedAt: at(i) }));
      listRequest().flush(aPage(many, null));
      socket.setState('connected');
      listRequest().flush(aPage(many, null));
      http.expectNone((req) => req.url.startsWith('/api/jobs/q'));
    });

    it('reads again when the server says it may have missed changes (jobs:resync), the socket never having dropped', () => {
      socket.setState('connected');
      const working = aJob({ id: 'working', status: 'processing', createdAt: at(1), updatedAt: at(1) });
      listRequest().flush(aPage([working], null));
      // Its Redis subscription was lost while the job completed: no event came.
      socket.askResync();
      listRequest().flush(aPage([{ ...working, status: 'completed', updatedAt: at(5), thumbnailUrl: '/t', downloadUrl: '/d' }], null));
      expect(store.jobs().map((job) => [job.id, job.status])).toEqual([['working', 'completed']]);
    });

    it('after a first read that failed, the reconnection reads the list', () => {
      listRequest().flush({ message: 'down' }, { status: 0, statusText: 'Unknown Error' });
      expect(store.error()).not.toBeNull();
      socket.setState('connected');
      listRequest().flush(aPage([aJob({ id: 'back' })]));
      expect(ids()).toEqual(['back']);
      expect(store.error()).toBeNull();
    });

    it('after a refresh that failed while offline, the reconnection reads the list again and clears the message', () => {
      socket.setState('connected');
      listRequest().flush(aPage([aJob({ id: 'before' })]));
      socket.setState('offline');
      store.reload();
      listRequest().error(new ProgressEvent('error'));
      expect(store.error()).toMatch(/Cannot reach the server/);
      socket.setState('connected');
      listRequest().flush(aPage([aJob({ id: 'after' }), aJob({ id: 'before' })]));
      expect(store.error()).toBeNull();
      expect([...ids()].sort()).toEqual(['after', 'before']);
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

  describe("with the contract's additions (stats, search, sort, type, trash, bulk)", () => {
    const stats = (overrides: Partial<JobStats> = {}): JobStats => ({
      total: 1234,
      byStatus: { pending: 0, queued: 3, processing: 1, completed: 1200, failed: 30 },
      byType: { image: 1100, video: 134 },
      bytes: 5_000_000,
      quotaBytes: null,
      trashed: 7,
      ...overrides,
    });

    function setUpWith(features = allFeatures()): void {
      jest.useFakeTimers();
      TestBed.configureTestingModule({
        providers: [provideHttpClient(), provideHttpClientTesting(), provideFakeJobSocket(), provideFeatureSet(features), JobsStore],
      });
      http = TestBed.inject(HttpTestingController);
      socket = TestBed.inject(FakeJobSocket);
      store = TestBed.inject(JobsStore);
    }

    const statsRequest = () => http.expectOne({ method: 'GET', url: '/api/jobs/stats' });
    const anyList = () => http.expectOne((req) => req.url === '/api/jobs');

    it('sends search, type, sort and trash to the API, and applies them to what it holds', () => {
      setUpWith();
      statsRequest().flush(stats());
      anyList().flush(
        aPage([
          aJob({ id: 'v', originalFilename: 'Beach.mp4', fileType: 'video', fileSize: 9 }),
          aJob({ id: 'i', originalFilename: 'beach.jpg', fileType: 'image', fileSize: 5 }),
          aJob({ id: 'x', originalFilename: 'city.jpg', fileType: 'image', fileSize: 7 }),
        ]),
      );
      store.setQuery({ q: 'BEACH', sort: 'size', type: 'image' });
      expect(ids()).toEqual(['i']); // at once, from what is held
      const request = anyList();
      expect(request.request.params.keys().sort()).toEqual(['limit', 'q', 'sort', 'type']);
      expect([request.request.params.get('q'), request.request.params.get('sort'), request.request.params.get('type')]).toEqual([
        'BEACH',
        'size',
        'image',
      ]);
      request.flush(aPage([aJob({ id: 'i', originalFilename: 'beach.jpg', fileType: 'image', fileSize: 5 })]));
      store.setQuery({ q: 'BEACH', sort: 'size', type: 'image' }); // the same: no new read
      http.expectNone((req) => req.url === '/api/jobs');
    });

    it('reads the counts, and again (at most every STATS_REFRESH_MS) as jobs change', () => {
      setUpWith();
      statsRequest().flush(stats());
      const job = aJob({ id: 'j', status: 'queued', updatedAt: at(0) });
      anyList().flush(aPage([job], 'more'));
      expect(store.total()).toBe(1234);
      socket.emit(anEvent(job, 'processing', T(1)));
      socket.emit(anEvent(job, 'completed', T(2)));
      jobRequest('j').flush({ ...job, status: 'completed', updatedAt: at(2) }); // for its renditions
      http.expectNone('/api/jobs/stats');
      jest.advanceTimersByTime(STATS_REFRESH_MS);
      statsRequest().flush(stats({ total: 1235 }));
      expect(store.total()).toBe(1235);
      store.setFilter('failed');
      expect(store.total()).toBe(30);
      anyList().flush(aPage([]));
      store.setQuery({ status: null, type: 'video' });
      expect(store.total()).toBe(134);
      store.setQuery({ q: 'x' });
      expect(store.total()).toBeNull(); // the counts cannot say
      jest.advanceTimersByTime(STATS_REFRESH_MS);
      for (const request of http.match((req) => req.url === '/api/jobs' || req.url === '/api/jobs/stats')) {
        if (!request.cancelled) request.flush(request.request.url === '/api/jobs' ? aPage([]) : stats());
      }
    });

    it('reads the server’s counts again after moving its own, so a move they already had is put right', () => {
      setUpWith();
      statsRequest().flush(stats());
      const job = aJob({ id: 'j', status: 'processing', fileType: 'image', updatedAt: at(0) });
      anyList().flush(aPage([job]));
      // The read that follows the first page's: after the job completed, so these counts already have it.
      jest.advanceTimersByTime(STATS_REFRESH_MS);
      statsRequest().flush(stats());
      // The socket's first connection reads the job in flight again: it has completed.
      socket.setState('connected');
      jobRequest('j').flush({ ...job, status: 'completed', updatedAt: at(1) });
      expect(store.stats()?.byStatus.completed).toBe(1201); // once too many, for now
      jest.advanceTimersByTime(STATS_REFRESH_MS);
      statsRequest().flush(stats());
      expect(store.stats()?.byStatus.completed).toBe(1200);
    });

    it('moves the counts with the change that moves the list, before the server’s are read again', () => {
      setUpWith();
      statsRequest().flush(stats());
      const job = aJob({ id: 'j', status: 'processing', fileType: 'image', updatedAt: at(0) });
      anyList().flush(aPage([job]));
      socket.emit(anEvent(job, 'completed', T(1)));
      expect(store.stats()?.byStatus).toMatchObject({ processing: 0, completed: 1201 });
      // An upload from this page.
      store.addJobs([aJob({ id: 'new', status: 'pending', fileType: 'video' })]);
      expect([store.total(), store.stats()?.byStatus.pending, store.stats()?.byType.video]).toEqual([1235, 1, 135]);
      // Deleted to the trash, and back with Undo.
      store.delete('j').subscribe();
      http.expectOne({ method: 'DELETE', url: '/api/jobs/j' }).flush(null, { status: 204, statusText: 'No Content' });
      expect([store.total(), store.stats()?.byStatus.completed, store.stats()?.trashed]).toEqual([1234, 1200, 8]);
      store.bulk('restore', ['j']).subscribe();
      http.expectOne({ method: 'POST', url: '/api/jobs/bulk' }).flush({ done: ['j'], skipped: [] });
      expect([store.total(), store.stats()?.byStatus.completed, store.stats()?.trashed]).toEqual([1235, 1201, 7]);
      jobRequest('j').flush({ ...job, status: 'completed', updatedAt: at(1) });
      expect(store.total()).toBe(1235);
      // The server's counts, read later, are the word.
      jest.advanceTimersByTime(STATS_REFRESH_MS);
      statsRequest().flush(stats({ total: 1300 }));
      expect(store.total()).toBe(1300);
    });

    it('has no counts where the server has no stats, and never asks for them', () => {
      setUpWith(firstFeatures());
      anyList().flush(aPage([aJob()]));
      jest.advanceTimersByTime(STATS_REFRESH_MS * 2);
      http.expectNone('/api/jobs/stats');
      expect(store.total()).toBeNull();
    });

    it('acts on many jobs with one bulk request per 500, and the jobs held follow', () => {
      setUpWith();
      statsRequest().flush(stats());
      const jobs = Array.from({ length: 501 }, (_, i) => aJob({ id: `b${String(i).padStart(3, '0')}`, status: 'failed' }));
      anyList().flush(aPage(jobs));
      const results: BulkResult[] = [];
      store
        .bulk(
          'delete',
          jobs.map((job) => job.id),
        )
        .subscribe((result) => results.push(result));
      expect(store.busyIds().size).toBe(501);
      const first = http.expectOne({ method: 'POST', url: '/api/jobs/bulk' });
      expect(first.request.body).toEqual({ action: 'delete', ids: jobs.slice(0, 500).map((job) => job.id) });
      first.flush({ done: jobs.slice(0, 499).map((job) => job.id), skipped: [{ id: 'b499', reason: 'not_found' }] });
      const second = http.expectOne({ method: 'POST', url: '/api/jobs/bulk' });
      expect(second.request.body).toEqual({ action: 'delete', ids: ['b500'] });
      second.flush({ done: ['b500'], skipped: [] });
      expect(results).toEqual([
        { done: [...jobs.slice(0, 499), jobs[500]].map((job) => job.id), skipped: [{ id: 'b499', reason: 'not_found' }] },
      ]);
      expect(ids()).toEqual([]);
      expect(store.busyIds().size).toBe(0);
      // Late events for deleted jobs do not bring them back.
      socket.emit(anEvent(jobs[0], 'queued', T(10_000)));
      jest.advanceTimersByTime(UNKNOWN_JOB_GRACE_MS);
      expect(ids()).toEqual([]);
    });

    it('falls back to one request per job where the server has no bulk route, and says which were skipped', () => {
      setUpWith(firstFeatures());
      const jobs = ['r1', 'r2', 'r3'].map((id) => aJob({ id, status: 'failed', updatedAt: at(0) }));
      anyList().flush(aPage(jobs));
      let result: BulkResult | undefined;
      store.bulk('retry', ['r1', 'r2', 'r3']).subscribe((value) => (result = value));
      const requests = http.match((req) => req.method === 'POST' && /\/retry$/.test(req.url));
      expect(requests.map((request) => request.request.url)).toEqual(['/api/jobs/r1/retry', '/api/jobs/r2/retry', '/api/jobs/r3/retry']);
      requests[0].flush({ ...jobs[0], status: 'queued', updatedAt: at(5) }, { status: 202, statusText: 'Accepted' });
      requests[1].flush({ statusCode: 409, error: 'Conflict', message: 'The job is not failed' }, { status: 409, statusText: 'Conflict' });
      requests[2].flush(notFound, { status: 404, statusText: 'Not Found' });
      expect(result).toEqual({
        done: ['r1'],
        skipped: [
          { id: 'r2', reason: 'conflict' },
          { id: 'r3', reason: 'not_found' },
        ],
      });
      expect(store.jobs().map((job) => [job.id, job.status])).toEqual([
        ['r2', 'failed'],
        ['r1', 'queued'],
      ]);
    });

    it('restores from the trash: the jobs leave the trash list', () => {
      setUpWith();
      statsRequest().flush(stats());
      anyList().flush(aPage([]));
      store.setQuery({ trashed: true });
      const trashed = aJob({ id: 't1', status: 'completed', deletedAt: at(9) });
      const request = anyList();
      expect(request.request.params.get('trashed')).toBe('true');
      request.flush(aPage([trashed]));
      expect(ids()).toEqual(['t1']);
      expect(store.total()).toBe(7);
      store.bulk('restore', ['t1']).subscribe();
      http.expectOne({ method: 'POST', url: '/api/jobs/bulk' }).flush({ done: ['t1'], skipped: [] });
      expect(ids()).toEqual([]);
    });

    it('deletes from the trash for good, one permanent delete each', () => {
      setUpWith();
      statsRequest().flush(stats());
      anyList().flush(aPage([]));
      store.setQuery({ trashed: true });
      anyList().flush(aPage([aJob({ id: 'gone1', deletedAt: at(1) })]));
      store.deleteForever(['gone1']).subscribe();
      const request = http.expectOne((req) => req.method === 'DELETE' && req.url === '/api/jobs/gone1');
      expect(request.request.params.get('permanent')).toBe('true');
      request.flush(null, { status: 204, statusText: 'No Content' });
      expect(ids()).toEqual([]);
    });

    it('brings an undone delete back to the library', () => {
      setUpWith();
      statsRequest().flush(stats());
      const job = aJob({ id: 'undo', status: 'completed' });
      anyList().flush(aPage([job]));
      store.delete('undo').subscribe();
      http.expectOne({ method: 'DELETE', url: '/api/jobs/undo' }).flush(null, { status: 204, statusText: 'No Content' });
      expect(ids()).toEqual([]);
      store.bulk('restore', ['undo']).subscribe();
      http.expectOne({ method: 'POST', url: '/api/jobs/bulk' }).flush({ done: ['undo'], skipped: [] });
      jobRequest('undo').flush(job);
      expect(ids()).toEqual(['undo']);
    });

    it('reads a job that finished again where the server makes renditions (its event does not carry them)', () => {
      setUpWith();
      statsRequest().flush(stats());
      const done = aJob({ id: 'done', status: 'completed', thumbnail2xUrl: '/t2x', thumbhash: 'abc' });
      const job = aJob({ id: 'r', status: 'processing', updatedAt: at(0) });
      anyList().flush(aPage([job, done]));
      socket.emit(anEvent(job, 'completed', T(5)));
      jobRequest('r').flush({ ...job, status: 'completed', updatedAt: at(5), thumbnailUrl: '/t', previewUrl: '/p' });
      expect(held('r')?.previewUrl).toBe('/p');
      // A failure's event carries its code: nothing to read.
      const other = aJob({ id: 'f', status: 'processing', updatedAt: at(0) });
      store.addJobs([other]);
      socket.emit(anEvent(other, 'failed', T(6), { errorCode: 'truncated', errorMessage: 'Cut short.' }));
      expect(held('f')).toMatchObject({ status: 'failed', errorCode: 'truncated', retryable: false });
      http.expectNone('/api/jobs/f');
    });

    it("reads a new account's first finished job again where the server documents renditions", () => {
      setUpWith(allFeatures());
      statsRequest().flush(stats());
      const job = aJob({ id: 'first', status: 'processing', updatedAt: at(0) });
      anyList().flush(aPage([job])); // nothing held has renditions yet
      socket.emit(anEvent(job, 'completed', T(5)));
      jobRequest('first').flush({ ...job, status: 'completed', updatedAt: at(5), thumbnailUrl: '/t', previewUrl: '/p' });
      expect(held('first')).toMatchObject({ status: 'completed', previewUrl: '/p' });
    });

    it('does not read a finished job again where the server documents no renditions and none came', () => {
      setUpWith(firstFeatures());
      const job = aJob({ id: 'first', status: 'processing', updatedAt: at(0) });
      anyList().flush(aPage([job]));
      socket.emit(anEvent(job, 'completed', T(5)));
      http.expectNone('/api/jobs/first');
      expect(held('first')?.status).toBe('completed');
    });

    it('reads a deep-linked job it does not hold', () => {
      setUpWith();
      statsRequest().flush(stats());
      anyList().flush(aPage([]));
      store.ensure('deep');
      jobRequest('deep').flush(aJob({ id: 'deep' }));
      expect(store.job('deep')?.id).toBe('deep');
      store.ensure('deep');
      http.expectNone('/api/jobs/deep');
    });
  });
});
