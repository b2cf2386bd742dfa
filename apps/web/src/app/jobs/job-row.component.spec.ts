import { ComponentFixture, TestBed } from '@angular/core/testing';
import type { JobView } from '@app/shared';
import fc from 'fast-check';
import { allByTestId, byTestId, queryTestId, text } from '../../testing/dom';
import { aJob, jobArb, textArb } from '../../testing/jobs';
import { provideAppIcons } from '../ui/icons';
import { JobRowComponent, UNKNOWN_FAILURE } from './job-row.component';

describe('JobRowComponent', () => {
  let fixture: ComponentFixture<JobRowComponent>;

  beforeEach(() => {
    TestBed.configureTestingModule({ providers: [provideAppIcons()] });
    fixture = TestBed.createComponent(JobRowComponent);
  });

  function show(job: JobView, busy = false): HTMLElement {
    fixture.componentRef.setInput('job', job);
    fixture.componentRef.setInput('busy', busy);
    fixture.detectChanges();
    return fixture.nativeElement as HTMLElement;
  }

  it('carries the ids the end-to-end tests look for', () => {
    const row = show(aJob({ id: 'job-1', status: 'processing' }));
    expect(row.dataset['testid']).toBe('job-row');
    expect(row.dataset['jobId']).toBe('job-1');
    expect(row.dataset['status']).toBe('processing');
  });

  it('shows name, kind and size', () => {
    const row = show(aJob({ originalFilename: 'holiday.mov', fileType: 'video', fileSize: 5 * 1024 * 1024 }));
    expect(text(row.querySelector('.name'))).toBe('holiday.mov');
    expect(text(row.querySelector('.meta'))).toMatch(/^Video · 5 MiB · /);
  });

  it('offers download only when completed, retry only when failed, delete always', () => {
    const links = (job: JobView) => {
      const row = show(job);
      return ['download-link', 'retry-button', 'delete-button'].filter((id) => queryTestId(row, id) !== null);
    };
    expect(links(aJob({ status: 'completed' }))).toEqual(['download-link', 'delete-button']);
    expect(links(aJob({ status: 'failed', errorCode: 'timeout', retryable: true }))).toEqual(['retry-button', 'delete-button']);
    // A failure a retry cannot fix: no retry, and the row says what to do instead.
    const truncated = aJob({ status: 'failed', errorCode: 'truncated', retryable: false });
    expect(links(truncated)).toEqual(['delete-button']);
    expect(byTestId(show(truncated), 'job-error').getAttribute('title')).toMatch(/upload the complete file again/);
    expect(links(aJob({ status: 'processing' }))).toEqual(['delete-button']);
  });

  it('download is a plain link to the signed URL, named for screen readers', () => {
    const job = aJob({ status: 'completed', originalFilename: 'cat.png', downloadUrl: '/api/download/x.jpg?exp=1&sig=abc' });
    const link = byTestId<HTMLAnchorElement>(show(job), 'download-link');
    expect(link.getAttribute('href')).toBe('/api/download/x.jpg?exp=1&sig=abc');
    expect(link.hasAttribute('download')).toBe(true);
    expect(link.getAttribute('aria-label')).toBe('Download the thumbnail of cat.png');
  });

  it('tells the page about retry and delete, and blocks them while busy', () => {
    const events: string[] = [];
    fixture.componentInstance.retry.subscribe(() => events.push('retry'));
    fixture.componentInstance.remove.subscribe(() => events.push('remove'));
    const row = show(aJob({ status: 'failed', errorCode: 'timeout', retryable: true }));
    byTestId<HTMLButtonElement>(row, 'retry-button').click();
    byTestId<HTMLButtonElement>(row, 'delete-button').click();
    expect(events).toEqual(['retry', 'remove']);

    show(aJob({ status: 'failed', errorCode: 'timeout', retryable: true }), true);
    expect(byTestId<HTMLButtonElement>(row, 'retry-button').disabled).toBe(true);
    expect(byTestId<HTMLButtonElement>(row, 'delete-button').disabled).toBe(true);
    expect(row.getAttribute('aria-busy')).toBe('true');
  });

  it('reports a thumbnail that does not load', () => {
    let failed = 0;
    fixture.componentInstance.thumbnailFailed.subscribe(() => (failed += 1));
    const img = byTestId<HTMLImageElement>(show(aJob({ status: 'completed' })), 'thumbnail');
    img.dispatchEvent(new Event('error'));
    expect(failed).toBe(1);
  });

  it('a failed job without a reason still says something', () => {
    expect(text(byTestId(show(aJob({ status: 'failed', errorMessage: null })), 'job-error'))).toBe(UNKNOWN_FAILURE);
  });

  // Feature: thumbnail-generation-system, Property 30: for any job with status 'completed', the
  // client displays the thumbnail preview image (Validates: Requirements 7.1).
  describe('Property 30: completed job thumbnail display', () => {
    it('any completed job shows its thumbnail from the signed URL, with a text alternative', () => {
      fc.assert(
        fc.property(jobArb(fc.constant('completed')), (job) => {
          const row = show(job);
          const images = allByTestId<HTMLImageElement>(row, 'thumbnail');
          expect(images).toHaveLength(1);
          expect(images[0].getAttribute('src')).toBe(job.thumbnailUrl);
          expect(images[0].alt).toBe(`Thumbnail of ${job.originalFilename}`);
          expect(byTestId<HTMLAnchorElement>(row, 'download-link').getAttribute('href')).toBe(job.downloadUrl);
        }),
        { numRuns: 100 },
      );
    });

    it('no other job shows a thumbnail image', () => {
      fc.assert(
        fc.property(jobArb(fc.constantFrom('pending', 'queued', 'processing', 'failed')), (job) => {
          const row = show(job);
          expect(queryTestId(row, 'thumbnail')).toBeNull();
          expect(queryTestId(row, 'download-link')).toBeNull();
        }),
        { numRuns: 100 },
      );
    });
  });

  // Feature: thumbnail-generation-system, Property 32: for any job with status 'failed', the
  // client displays an error message with the failure details (Validates: Requirements 7.4).
  describe('Property 32: failed job error display', () => {
    it('any failed job shows its error message, as the server wrote it', () => {
      fc.assert(
        fc.property(jobArb(fc.constant('failed')), textArb(300), (job, message) => {
          const row = show({ ...job, errorMessage: message });
          const error = byTestId(row, 'job-error');
          expect(error.textContent).toBe(message.trim());
          expect(queryTestId(row, 'retry-button') !== null).toBe(job.retryable);
        }),
        { numRuns: 100 },
      );
    });

    it('no job that has not failed shows an error', () => {
      fc.assert(
        fc.property(jobArb(fc.constantFrom('pending', 'queued', 'processing', 'completed')), (job) => {
          expect(queryTestId(show(job), 'job-error')).toBeNull();
        }),
        { numRuns: 100 },
      );
    });
  });
});
