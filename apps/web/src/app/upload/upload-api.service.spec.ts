import { HttpEventType, provideHttpClient } from '@angular/common/http';
import { HttpTestingController, provideHttpClientTesting } from '@angular/common/http/testing';
import { TestBed } from '@angular/core/testing';
import { aJob } from '../../testing/jobs';
import { UploadApi, UploadEvent } from './upload-api.service';

describe('UploadApi', () => {
  let api: UploadApi;
  let http: HttpTestingController;

  beforeEach(() => {
    TestBed.configureTestingModule({ providers: [provideHttpClient(), provideHttpClientTesting()] });
    api = TestBed.inject(UploadApi);
    http = TestBed.inject(HttpTestingController);
  });

  afterEach(() => http.verify());

  it('posts one file in the multipart field "files", with its Idempotency-Key, and reports progress', () => {
    const file = new File(['x'.repeat(100)], 'holiday.jpg', { type: 'image/jpeg' });
    const events: UploadEvent[] = [];
    api.upload(file, 'key-1').subscribe((event) => events.push(event));

    const request = http.expectOne({ method: 'POST', url: '/api/upload' });
    expect(request.request.headers.get('Idempotency-Key')).toBe('key-1');
    expect(request.request.reportProgress).toBe(true);
    const body = request.request.body as FormData;
    expect(body.getAll('files')).toHaveLength(1);
    expect((body.get('files') as File).name).toBe('holiday.jpg');

    request.event({ type: HttpEventType.Sent });
    request.event({ type: HttpEventType.UploadProgress, loaded: 40, total: 100 });
    request.event({ type: HttpEventType.UploadProgress, loaded: 100 });
    const result = { jobs: [aJob()], rejected: [] };
    request.flush(result, { status: 201, statusText: 'Created' });

    expect(events).toEqual([
      { type: 'progress', loaded: 40, total: 100 },
      { type: 'progress', loaded: 100, total: 100 },
      { type: 'done', result },
    ]);
  });
});
