import { HttpEventType, provideHttpClient } from '@angular/common/http';
import { HttpTestingController, provideHttpClientTesting, TestRequest } from '@angular/common/http/testing';
import { TestBed } from '@angular/core/testing';
import type { JobView } from '@app/shared';
import { aJob, anEvent, at } from '../../testing/jobs';
import { Observable, Subject } from 'rxjs';
import type { UploadEvent } from './upload-api.service';
import { TusUploads } from './tus-uploads';
import { flushUnsupportedType } from '../../testing/uploads';
import { provideFakeJobSocket, FakeJobSocket } from '../../testing/fake-job-socket';
import { provideFeatureSet } from '../http/server-features';
import { MAX_RATE_LIMIT_WAITS, RESUMABLE_FROM_BYTES, UPLOAD_CONCURRENCY, UPLOAD_RETRY_DELAYS_MS, UploadQueue } from './upload-queue';

const file = (name: string, size = 100) => new File(['x'.repeat(size)], name, { type: 'image/jpeg' });
const keyOf = (request: TestRequest) => request.request.headers.get('Idempotency-Key');
const nameOf = (request: TestRequest) => ((request.request.body as FormData).get('files') as File).name;

describe('UploadQueue', () => {
  let queue: UploadQueue;
  let http: HttpTestingController;
  let uploaded: JobView[][];

  beforeEach(() => {
    TestBed.configureTestingModule({
      providers: [provideHttpClient(), provideHttpClientTesting(), provideFakeJobSocket(), provideFeatureSet(), UploadQueue],
    });
    queue = TestBed.inject(UploadQueue);
    http = TestBed.inject(HttpTestingController);
    uploaded = [];
    queue.uploaded$.subscribe((jobs) => uploaded.push(jobs));
  });

  afterEach(() => {
    http.verify();
    jest.useRealTimers();
  });

  const uploads = () => http.match({ method: 'POST', url: '/api/upload' });
  const item = (name: string) => queue.items().find((candidate) => candidate.file.name === name)!;

  it(`sends each file as its own request, ${UPLOAD_CONCURRENCY} at a time, each with its own key`, () => {
    queue.add(['a.jpg', 'b.jpg', 'c.jpg', 'd.jpg'].map((name) => file(name)));
    const first = uploads();
    expect(first.map(nameOf)).toEqual(['a.jpg', 'b.jpg', 'c.jpg']);
    expect(new Set(first.map(keyOf)).size).toBe(3);
    expect(item('d.jpg').state).toBe('waiting');

    first[0].flush({ jobs: [aJob()], rejected: [] }, { status: 201, statusText: 'Created' });
    const next = uploads();
    expect(next.map(nameOf)).toEqual(['d.jpg']);
    next[0].flush({ jobs: [aJob()], rejected: [] }, { status: 201, statusText: 'Created' });
    first.slice(1).forEach((request) => request.flush({ jobs: [aJob()], rejected: [] }, { status: 201, statusText: 'Created' }));
    expect(queue.items().map((candidate) => candidate.state)).toEqual(['done', 'done', 'done', 'done']);
  });

  it('follows the progress of each file and hands over the jobs made', () => {
    queue.add([file('a.jpg', 200)]);
    const [request] = uploads();
    request.event({ type: HttpEventType.UploadProgress, loaded: 50, total: 200 });
    expect(item('a.jpg')).toMatchObject({ state: 'uploading', loaded: 50, total: 200 });
    const job = aJob({ originalFilename: 'a.jpg' });
    request.flush({ jobs: [job], rejected: [] }, { status: 201, statusText: 'Created' });
    expect(item('a.jpg')).toMatchObject({ state: 'done', jobIds: [job.id] });
    expect(uploaded).toEqual([[job]]);
  });

  it('a file the server did not accept shows the reason it gave', () => {
    queue.add([file('notes.txt'), file('empty.png'), file('huge.mp4')]);
    const [txt, empty, huge] = uploads();
    flushUnsupportedType(txt, 'notes.txt');
    empty.flush(
      { jobs: [], rejected: [{ originalFilename: 'empty.png', code: 'empty', message: '“empty.png” is empty.' }] },
      { status: 201, statusText: 'Created' },
    );
    huge.flush(
      { statusCode: 413, error: 'Payload Too Large', message: '“huge.mp4” is larger than 100 MiB.' },
      { status: 413, statusText: 'Payload Too Large' },
    );

    expect(item('notes.txt')).toMatchObject({ state: 'rejected', message: '“notes.txt” is not a supported image or video.' });
    expect(item('empty.png')).toMatchObject({ state: 'rejected', message: '“empty.png” is empty.' });
    expect(item('huge.mp4')).toMatchObject({ state: 'rejected', message: '“huge.mp4” is larger than 100 MiB.' });
    expect(uploaded).toEqual([]);
  });

  it('sends again after a transient failure with the same Idempotency-Key, so no job is made twice', () => {
    jest.useFakeTimers();
    queue.add([file('a.jpg')]);
    const [first] = uploads();
    first.event({ type: HttpEventType.UploadProgress, loaded: 100, total: 100 });
    first.error(new ProgressEvent('error'), { status: 0, statusText: 'Unknown Error' });
    expect(item('a.jpg')).toMatchObject({ state: 'waiting', loaded: 0 });

    jest.advanceTimersByTime(UPLOAD_RETRY_DELAYS_MS[0]);
    expect(item('a.jpg').state).toBe('uploading');
    const [second] = uploads();
    expect(keyOf(second)).toBe(keyOf(first));
    second.flush(
      { statusCode: 409, error: 'Conflict', message: 'A request with this Idempotency-Key is still being processed.' },
      { status: 409, statusText: 'Conflict' },
    );

    jest.advanceTimersByTime(UPLOAD_RETRY_DELAYS_MS[1]);
    const [third] = uploads();
    expect(keyOf(third)).toBe(keyOf(first));
    third.flush({ jobs: [aJob()], rejected: [] }, { status: 201, statusText: 'Created' });
    expect(item('a.jpg').state).toBe('done');
  });

  it('waits out the upload rate limit as long as Retry-After says, then goes on with the same key', () => {
    jest.useFakeTimers();
    queue.add([file('a.jpg')]);
    const [first] = uploads();
    const tooMany = {
      statusCode: 429,
      error: 'Too Many Requests',
      message: 'Too many requests (at most 120 a minute). Try again in 7 seconds.',
    };
    first.flush(tooMany, { status: 429, statusText: 'Too Many Requests', headers: { 'Retry-After': '7' } });
    expect(item('a.jpg').state).toBe('waiting');
    jest.advanceTimersByTime(6_999);
    expect(uploads()).toEqual([]);
    jest.advanceTimersByTime(1);
    const [second] = uploads();
    expect(keyOf(second)).toBe(keyOf(first));
    second.flush({ jobs: [aJob()], rejected: [] }, { status: 201, statusText: 'Created' });
    expect(item('a.jpg').state).toBe('done');
  });

  it(`gives up on the rate limit after ${MAX_RATE_LIMIT_WAITS} waits`, () => {
    jest.useFakeTimers();
    queue.add([file('a.jpg')]);
    const tooMany = {
      statusCode: 429,
      error: 'Too Many Requests',
      message: 'Too many requests (at most 120 a minute). Try again in 1 seconds.',
    };
    for (let wait = 0; wait <= MAX_RATE_LIMIT_WAITS; wait++) {
      uploads()[0].flush(tooMany, { status: 429, statusText: 'Too Many Requests', headers: { 'Retry-After': '1' } });
      jest.advanceTimersByTime(1000);
    }
    expect(item('a.jpg')).toMatchObject({ state: 'failed', message: tooMany.message });
  });

  it('gives up after the retries, and a manual retry keeps the key', () => {
    jest.useFakeTimers();
    queue.add([file('a.jpg')]);
    const [first] = uploads();
    const key = keyOf(first);
    first.error(new ProgressEvent('error'), { status: 0, statusText: 'Unknown Error' });
    for (const delay of UPLOAD_RETRY_DELAYS_MS) {
      jest.advanceTimersByTime(delay);
      uploads()[0].flush(
        { statusCode: 503, error: 'Service Unavailable', message: 'The database is unavailable.' },
        { status: 503, statusText: 'x' },
      );
    }
    expect(item('a.jpg')).toMatchObject({ state: 'failed', message: 'The database is unavailable.' });

    queue.retry(item('a.jpg').id);
    const [again] = uploads();
    expect(keyOf(again)).toBe(key);
    again.flush({ jobs: [aJob()], rejected: [] }, { status: 201, statusText: 'Created' });
    expect(item('a.jpg').state).toBe('done');
  });

  it('does not retry errors that will not go away', () => {
    queue.add([file('a.jpg')]);
    uploads()[0].flush(
      { statusCode: 400, error: 'Bad Request', message: 'No files received.' },
      { status: 400, statusText: 'Bad Request' },
    );
    expect(item('a.jpg')).toMatchObject({ state: 'failed', message: 'No files received.' });
    expect(uploads()).toEqual([]);
  });

  it('cancels an upload under way (the request is aborted) and one still waiting', () => {
    queue.add(['a.jpg', 'b.jpg', 'c.jpg', 'd.jpg'].map((name) => file(name)));
    const [a, b, c] = uploads();
    queue.cancel(item('d.jpg').id);
    queue.cancel(item('a.jpg').id);
    expect(a.cancelled).toBe(true);
    expect(item('a.jpg').state).toBe('cancelled');
    expect(item('d.jpg').state).toBe('cancelled');
    expect(uploads()).toHaveLength(0); // d was next in line, but cancelled: it never starts
    [b, c].forEach((request) => request.flush({ jobs: [aJob()], rejected: [] }, { status: 201, statusText: 'Created' }));
    expect(uploads()).toHaveLength(0);
    expect(queue.items().map((candidate) => candidate.state)).toEqual(['cancelled', 'done', 'done', 'cancelled']);
  });

  it('clears finished files off the list and keeps the others', () => {
    queue.add(['a.jpg', 'b.jpg'].map((name) => file(name)));
    const [a, b] = uploads();
    a.flush({ jobs: [aJob()], rejected: [] }, { status: 201, statusText: 'Created' });
    expect(queue.hasFinished()).toBe(true);
    queue.clearFinished();
    expect(queue.items().map((candidate) => candidate.file.name)).toEqual(['b.jpg']);
    queue.dismiss(item('b.jpg').id); // still uploading: stays
    expect(queue.items()).toHaveLength(1);
    b.flush({ jobs: [aJob()], rejected: [] }, { status: 201, statusText: 'Created' });
    queue.dismiss(item('b.jpg').id);
    expect(queue.items()).toEqual([]);
  });

  it('follows each job it made live, with the events that came before the answer', () => {
    const socket = TestBed.inject(FakeJobSocket);
    queue.add([file('a.jpg'), file('b.jpg')]);
    const [a, b] = uploads();
    const jobA = aJob({ id: 'ja', status: 'queued', updatedAt: at(0) });
    const jobB = aJob({ id: 'jb', status: 'queued', updatedAt: at(0) });
    // The worker is quick: b is processing before its upload's answer is in.
    socket.emit(anEvent(jobB, 'processing', Date.parse(at(5))));
    a.flush({ jobs: [jobA], rejected: [] }, { status: 201, statusText: 'Created' });
    b.flush({ jobs: [jobB], rejected: [] }, { status: 201, statusText: 'Created' });
    expect(queue.jobs().get('jb')?.status).toBe('processing');
    expect(queue.summary()).toMatchObject({ files: 2, uploaded: 2, active: 0, processing: 2, settled: false });
    socket.emit(anEvent(jobA, 'completed', Date.parse(at(10))));
    socket.emit(anEvent(jobB, 'failed', Date.parse(at(11)), { errorMessage: 'Not an image.' }));
    socket.emit(anEvent(jobA, 'processing', Date.parse(at(6)))); // late: ignored
    expect(queue.jobs().get('ja')).toMatchObject({ status: 'completed', thumbnailUrl: expect.stringContaining('/api/thumbnails/') });
    expect(queue.jobs().get('jb')).toMatchObject({ status: 'failed', errorMessage: 'Not an image.' });
    expect(queue.summary()).toMatchObject({ processing: 0, jobsFailed: 1, settled: true });
  });

  it('sums up files, bytes and what is left; waiting files are not progress', () => {
    queue.add([file('a.jpg', 1000), file('b.jpg', 3000), file('c.jpg', 500), file('d.jpg', 500)]);
    const [a] = uploads();
    a.event({ type: HttpEventType.UploadProgress, loaded: 400, total: 1000 });
    expect(queue.summary()).toMatchObject({ files: 4, uploaded: 0, active: 4, bytesLoaded: 400, bytesTotal: 5000 });
    expect(item('d.jpg')).toMatchObject({ state: 'waiting', loaded: 0 });
    queue.cancelAll();
    expect(queue.items().map((each) => each.state)).toEqual(['cancelled', 'cancelled', 'cancelled', 'cancelled']);
    expect(uploads()).toEqual([]);
    expect(queue.summary()).toMatchObject({ files: 0, active: 0, settled: true });
  });

  it('shows a duplicate with the job the user has, and sends it anyway with allowDuplicates and a new key', () => {
    queue.add([file('again.jpg')]);
    const [first] = uploads();
    first.flush(
      {
        jobs: [],
        rejected: [
          { originalFilename: 'again.jpg', code: 'duplicate', message: 'You already have “again.jpg”.', existingJobId: 'old-job' },
        ],
      },
      { status: 201, statusText: 'Created' },
    );
    expect(item('again.jpg')).toMatchObject({ state: 'rejected', duplicateOf: 'old-job', message: 'You already have “again.jpg”.' });
    queue.uploadAnyway(item('again.jpg').id);
    const [second] = uploads();
    expect((second.request.body as FormData).get('allowDuplicates')).toBe('true');
    expect(keyOf(second)).not.toBe(keyOf(first));
    second.flush({ jobs: [aJob()], rejected: [] }, { status: 201, statusText: 'Created' });
    expect(item('again.jpg')).toMatchObject({ state: 'done', duplicateOf: null });
    expect((first.request.body as FormData).get('allowDuplicates')).toBeNull();
  });

  it('keeps the folder a file came from, and how many files of a folder were left out', () => {
    queue.add([{ file: file('a.jpg'), folderPath: 'Holiday/Day 1' }], 2);
    expect(item('a.jpg').folderPath).toBe('Holiday/Day 1');
    expect(queue.skipped()).toBe(2);
    uploads()[0].flush({ jobs: [aJob()], rejected: [] }, { status: 201, statusText: 'Created' });
    queue.clearFinished();
    expect(queue.skipped()).toBe(0);
  });
});

describe('UploadQueue with resumable uploads (tus)', () => {
  /** Stands in for tus-js-client (the transport is not the subject): each start is a subject the test drives. */
  class FakeTus {
    starts: { key: string; events: Subject<UploadEvent>; stopped: boolean }[] = [];
    discarded: string[] = [];
    upload(key: string): Observable<UploadEvent> {
      return new Observable<UploadEvent>((subscriber) => {
        const start = { key, events: new Subject<UploadEvent>(), stopped: false };
        this.starts.push(start);
        const subscription = start.events.subscribe(subscriber);
        return () => {
          start.stopped = true;
          subscription.unsubscribe();
        };
      });
    }
    discard(key: string): void {
      this.discarded.push(key);
    }
  }

  it('sends large files over tus, pauses and resumes them, and cancels them on the server too', () => {
    const tus = new FakeTus();
    TestBed.configureTestingModule({
      providers: [
        provideHttpClient(),
        provideHttpClientTesting(),
        provideFakeJobSocket(),
        provideFeatureSet({ routes: new Set(['post /api/uploads']), listParameters: new Set() }),
        { provide: TusUploads, useValue: tus },
        UploadQueue,
      ],
    });
    const http = TestBed.inject(HttpTestingController);
    const queue = TestBed.inject(UploadQueue);
    const big = new File([new Uint8Array(RESUMABLE_FROM_BYTES)], 'big.mov');
    queue.add([big, file('small.jpg')]);
    const [bigItem, smallItem] = queue.items();
    expect([bigItem.resumable, smallItem.resumable]).toEqual([true, false]);
    http.expectOne({ method: 'POST', url: '/api/upload' }).flush({ jobs: [aJob()], rejected: [] }, { status: 201, statusText: 'Created' });

    tus.starts[0].events.next({ type: 'progress', loaded: 1000, total: big.size });
    queue.pause(bigItem.id);
    expect(tus.starts[0].stopped).toBe(true);
    expect(queue.items()[0]).toMatchObject({ state: 'paused', loaded: 1000 });
    queue.resume(bigItem.id);
    expect(tus.starts).toHaveLength(2);
    expect(queue.items()[0]).toMatchObject({ state: 'uploading', loaded: 1000 });
    queue.cancel(bigItem.id);
    expect(tus.starts[1].stopped).toBe(true);
    expect(tus.discarded).toEqual([bigItem.id]);
    http.verify();
  });
});
