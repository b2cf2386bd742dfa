import { aJob } from '../../testing/jobs';
import { canRetry, failureAdvice, hasRenditions, jobMedia, JobWithMedia } from './job-media';

describe('jobMedia', () => {
  it('reads a job whose renditions are not made (yet): the thumbnail only', () => {
    const job = aJob({ status: 'completed' });
    expect(jobMedia(job)).toEqual({
      thumbnailUrl: job.thumbnailUrl,
      thumbnail2xUrl: null,
      previewUrl: null,
      animatedPreviewUrl: null,
      originalUrl: null,
      thumbhash: null,
      width: null,
      height: null,
      durationMs: null,
      deletedAt: null,
      errorCode: null,
      retryable: false,
    });
  });

  it('reads a job of a server older than the field: every failure retryable', () => {
    const { retryable: _retryable, ...old } = aJob({ status: 'failed' });
    expect(jobMedia(old as unknown as JobWithMedia).retryable).toBe(true);
    expect(hasRenditions(aJob({ status: 'completed' }))).toBe(false);
  });

  it('reads the contract fields where the server sends them', () => {
    const job: JobWithMedia = {
      ...aJob({ status: 'completed', fileType: 'video' }),
      thumbnail2xUrl: '/t2x',
      previewUrl: '/p',
      animatedPreviewUrl: '/a',
      originalUrl: '/o',
      thumbhash: 'abc',
      width: 1920,
      height: 1080,
      durationMs: 12_500,
      deletedAt: null,
      errorCode: null,
      retryable: true,
    };
    expect(jobMedia(job)).toMatchObject({
      thumbnail2xUrl: '/t2x',
      previewUrl: '/p',
      animatedPreviewUrl: '/a',
      originalUrl: '/o',
      width: 1920,
    });
    expect(hasRenditions(job)).toBe(true);
  });

  it('shows no renditions of a job that is not completed, and no nonsense sizes', () => {
    const job: JobWithMedia = { ...aJob({ status: 'processing' }), previewUrl: '/p', width: 0, height: -1, durationMs: Number.NaN };
    expect(jobMedia(job)).toMatchObject({ previewUrl: null, width: null, height: null, durationMs: null });
  });
});

describe('retrying failures', () => {
  it('offers a retry where it can help, and advice where it cannot', () => {
    const transient: JobWithMedia = { ...aJob({ status: 'failed' }), retryable: true, errorCode: 'timeout' };
    const truncated: JobWithMedia = { ...aJob({ status: 'failed' }), retryable: false, errorCode: 'undecodable' };
    const unknown = { ...aJob({ status: 'failed' }), retryable: false, errorCode: 'something_new' } as unknown as JobWithMedia;
    expect([canRetry(transient), failureAdvice(transient)]).toEqual([true, null]);
    expect(canRetry(truncated)).toBe(false);
    expect(failureAdvice(truncated)).toMatch(/upload the complete file again/);
    expect(failureAdvice(unknown)).toBe('Retrying will not help: upload the complete file again.');
    expect(canRetry(aJob({ status: 'failed', errorCode: 'timeout', retryable: true }))).toBe(true);
    expect(canRetry(aJob({ status: 'completed' }))).toBe(false);
  });
});
