import { HttpEventType, provideHttpClient } from '@angular/common/http';
import { HttpTestingController, provideHttpClientTesting, TestRequest } from '@angular/common/http/testing';
import { TestBed } from '@angular/core/testing';
import type { JobView } from '@app/shared';
import { aJob } from '../../testing/jobs';
import { flushUnsupportedType } from '../../testing/uploads';
import { MAX_RATE_LIMIT_WAITS, UPLOAD_CONCURRENCY, UPLOAD_RETRY_DELAYS_MS, UploadQueue } from './upload-queue';

const file = (name: string, size = 100) => new File(['x'.repeat(size)], name, { type: 'image/jpeg' });
const keyOf = (request: TestRequest) => request.request.headers.get('Idempotency-Key');
const nameOf = (request: TestRequest) => ((request.request.body as FormData).get('files') as File).name;

describe('UploadQueue', () => {
  let queue: UploadQueue;
  let http: HttpTestingController;
  let uploaded: JobView[][];

  beforeEach(() => {
    TestBed.configureTestingModule({ providers: [provideHttpClient(), provideHttpClientTesting(), UploadQueue] });
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
});
