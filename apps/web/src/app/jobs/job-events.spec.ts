import type { JobStatusEvent, JobView } from '@app/shared';
import fc from 'fast-check';
import { aJob, anEvent, jobArb, statusArb } from '../../testing/jobs';
import { applyStatusEvent, changedAt } from './job-events';

const T0 = Date.UTC(2025, 0, 1, 12);

describe('applyStatusEvent', () => {
  const queued = aJob({ status: 'queued', updatedAt: new Date(T0).toISOString() });

  it('moves a job to the status of a newer event', () => {
    const next = applyStatusEvent(queued, anEvent(queued, 'processing', T0 + 5));
    expect(next.status).toBe('processing');
    expect(next.updatedAt).toBe(new Date(T0 + 5).toISOString());
  });

  it('ignores an older event and returns the very same job', () => {
    expect(applyStatusEvent(queued, anEvent(queued, 'pending', T0 - 1))).toBe(queued);
  });

  it('ignores events for other jobs', () => {
    expect(applyStatusEvent(queued, anEvent(aJob(), 'completed', T0 + 1))).toBe(queued);
  });

  it('with the same millisecond, only moves forward in the lifecycle', () => {
    expect(applyStatusEvent(queued, anEvent(queued, 'processing', T0)).status).toBe('processing');
    expect(applyStatusEvent(queued, anEvent(queued, 'pending', T0))).toBe(queued);
    const processing = applyStatusEvent(queued, anEvent(queued, 'processing', T0));
    expect(applyStatusEvent(processing, anEvent(queued, 'queued', T0))).toBe(processing);
  });

  it('completed: takes the signed URLs and the completion time', () => {
    const done = applyStatusEvent(queued, anEvent(queued, 'completed', T0 + 9, { thumbnailUrl: '/t?sig=1', downloadUrl: '/d?sig=1' }));
    expect(done).toMatchObject({
      status: 'completed',
      thumbnailUrl: '/t?sig=1',
      downloadUrl: '/d?sig=1',
      errorMessage: null,
      completedAt: new Date(T0 + 9).toISOString(),
    });
  });

  it('failed: keeps the error message', () => {
    const failed = applyStatusEvent(queued, anEvent(queued, 'failed', T0 + 9, { errorMessage: 'Not a valid PNG.' }));
    expect(failed).toMatchObject({ status: 'failed', errorMessage: 'Not a valid PNG.', thumbnailUrl: null });
  });

  it('retried (failed → queued): the old error and URLs are gone', () => {
    const failed = aJob({ status: 'failed', errorMessage: 'Boom', updatedAt: new Date(T0).toISOString() });
    const requeued = applyStatusEvent(failed, anEvent(failed, 'queued', T0 + 1));
    expect(requeued).toMatchObject({ status: 'queued', errorMessage: null, thumbnailUrl: null, downloadUrl: null, completedAt: null });
  });

  it('fills in URLs told again for the same change', () => {
    const bare = aJob({ status: 'completed', thumbnailUrl: null, downloadUrl: null, updatedAt: new Date(T0).toISOString() });
    const filled = applyStatusEvent(bare, {
      jobId: bare.id,
      userId: 'u',
      status: 'completed',
      timestamp: T0,
      thumbnailUrl: '/t',
      downloadUrl: '/d',
    });
    expect(filled).toMatchObject({ thumbnailUrl: '/t', downloadUrl: '/d' });
  });
});

// Feature: thumbnail-generation-system, Property 28: for any status update received by the
// client, the state is updated to reflect the new job status (Validates: Requirements 6.4).
describe('Property 28: UI state update (event folding)', () => {
  /** A job and events for it with distinct timestamps around the job's last change, in any order. */
  const scenario = jobArb().chain((job) => {
    const at = changedAt(job);
    const events = fc
      .uniqueArray(fc.integer({ min: at - 60_000, max: at + 60_000 }), { minLength: 1, maxLength: 12 })
      .chain((times) => fc.tuple(...times.map((timestamp) => statusArb.map((status) => anEvent(job, status, timestamp)))));
    return events.chain((list) =>
      fc.record({ job: fc.constant(job), sent: fc.constant(list), received: fc.shuffledSubarray(list, { minLength: list.length }) }),
    );
  });

  const fold = (job: JobView, events: readonly JobStatusEvent[]) => events.reduce(applyStatusEvent, job);

  it('the job ends as the newest event says, whatever order the events arrive in', () => {
    fc.assert(
      fc.property(scenario, ({ job, sent, received }) => {
        const newest = sent.reduce((a, b) => (b.timestamp > a.timestamp ? b : a));
        const result = fold(job, received);
        if (newest.timestamp > changedAt(job)) {
          expect(result.status).toBe(newest.status);
          expect(changedAt(result)).toBe(newest.timestamp);
        } else {
          expect(result).toBe(job);
        }
        expect(fold(job, sent)).toEqual(result);
      }),
      { numRuns: 300 },
    );
  });

  it('never moves a job backwards in time: updatedAt only grows as events arrive', () => {
    fc.assert(
      fc.property(scenario, ({ job, received }) => {
        let current = job;
        for (const event of received) {
          const next = applyStatusEvent(current, event);
          expect(changedAt(next)).toBeGreaterThanOrEqual(changedAt(current));
          current = next;
        }
      }),
      { numRuns: 300 },
    );
  });

  it('the fields follow the status: URLs only when completed, an error only when failed', () => {
    fc.assert(
      fc.property(scenario, ({ job, received }) => {
        const result = fold(job, received);
        if (result === job) return;
        expect(result.thumbnailUrl !== null).toBe(result.status === 'completed');
        if (result.status !== 'failed') expect(result.errorMessage).toBeNull();
      }),
      { numRuns: 200 },
    );
  });
});
