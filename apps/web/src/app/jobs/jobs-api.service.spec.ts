import { provideHttpClient } from '@angular/common/http';
import { HttpTestingController, provideHttpClientTesting } from '@angular/common/http/testing';
import { TestBed } from '@angular/core/testing';
import { MAX_PAGE_SIZE } from '@app/shared';
import { aJob, aPage } from '../../testing/jobs';
import { JobsApi } from './jobs-api.service';

describe('JobsApi', () => {
  let api: JobsApi;
  let http: HttpTestingController;

  beforeEach(() => {
    TestBed.configureTestingModule({ providers: [provideHttpClient(), provideHttpClientTesting()] });
    api = TestBed.inject(JobsApi);
    http = TestBed.inject(HttpTestingController);
  });

  afterEach(() => http.verify());

  it('lists a page with status, cursor and a limit the API accepts', () => {
    const page = aPage([aJob()], 'next');
    let received: unknown;
    api.list({ status: 'failed', cursor: 'abc', limit: 5000 }).subscribe((value) => (received = value));
    const request = http.expectOne((req) => req.url === '/api/jobs');
    expect(request.request.params.get('status')).toBe('failed');
    expect(request.request.params.get('cursor')).toBe('abc');
    expect(request.request.params.get('limit')).toBe(String(MAX_PAGE_SIZE));
    request.flush(page);
    expect(received).toEqual(page);
  });

  it('leaves out what is not set', () => {
    api.list().subscribe();
    const request = http.expectOne((req) => req.url === '/api/jobs');
    expect(request.request.params.keys()).toEqual(['limit']);
    request.flush(aPage([]));
  });

  it('reads, retries and deletes one job', () => {
    const job = aJob({ id: 'a/b' });
    api.get('a/b').subscribe();
    http.expectOne({ method: 'GET', url: '/api/jobs/a%2Fb' }).flush(job);
    api.retry('j1').subscribe();
    http.expectOne({ method: 'POST', url: '/api/jobs/j1/retry' }).flush(job, { status: 202, statusText: 'Accepted' });
    let deleted = false;
    api.delete('j1').subscribe(() => (deleted = true));
    http.expectOne({ method: 'DELETE', url: '/api/jobs/j1' }).flush(null, { status: 204, statusText: 'No Content' });
    expect(deleted).toBe(true);
  });
});
