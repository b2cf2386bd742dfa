import type { JobView } from '@app/shared';
import fc from 'fast-check';
import { aJob, aPage, at, jobListArb } from '../../testing/jobs';
import { JobMap, mergeFirstPage, newestFirst, removeJob, upsertJobs } from './job-collection';
import { DEFAULT_QUERY } from './job-query';

const mapOf = (...jobs: JobView[]): JobMap => new Map(jobs.map((job) => [job.id, job]));

describe('newestFirst', () => {
  it('orders by creation time, newest first, ids breaking ties like the API', () => {
    const old = aJob({ id: 'a', createdAt: at(0) });
    const same1 = aJob({ id: 'b', createdAt: at(5) });
    const same2 = aJob({ id: 'c', createdAt: at(5) });
    expect([old, same1, same2].sort(newestFirst).map((job) => job.id)).toEqual(['c', 'b', 'a']);
  });

  it('is a total order for any jobs', () => {
    fc.assert(
      fc.property(jobListArb(20), (jobs) => {
        const sorted = [...jobs].sort(newestFirst);
        for (let i = 1; i < sorted.length; i++) expect(newestFirst(sorted[i - 1], sorted[i])).toBeLessThanOrEqual(0);
        expect([...sorted].reverse().sort(newestFirst)).toEqual(sorted);
      }),
      { numRuns: 100 },
    );
  });
});

describe('upsertJobs', () => {
  const held = aJob({ status: 'processing', updatedAt: at(10) });

  it('adds new jobs', () => {
    const other = aJob();
    expect([...upsertJobs(mapOf(held), [other]).keys()]).toEqual([held.id, other.id]);
  });

  it('replaces a job with a copy as new or newer', () => {
    const newer = { ...held, status: 'completed' as const, updatedAt: at(11) };
    expect(upsertJobs(mapOf(held), [newer]).get(held.id)).toBe(newer);
    const same = { ...held, thumbnailUrl: '/x' };
    expect(upsertJobs(mapOf(held), [same]).get(held.id)).toBe(same);
  });

  it('keeps what it has when the copy is older (a live event got there first)', () => {
    const jobs = mapOf(held);
    expect(upsertJobs(jobs, [{ ...held, status: 'queued', updatedAt: at(9) }])).toBe(jobs);
  });

  it('returns the same map when nothing changes', () => {
    const jobs = mapOf(held);
    expect(upsertJobs(jobs, [held])).toBe(jobs);
    expect(removeJob(jobs, 'unknown')).toBe(jobs);
  });
});

describe('mergeFirstPage', () => {
  const [j5, j4, j3, j2, j1] = [5, 4, 3, 2, 1].map((n) => aJob({ id: `job-${n}`, createdAt: at(n * 1000), updatedAt: at(n * 1000) }));

  it('a new listing: the page, plus jobs newer than it, minus jobs older than it', () => {
    const uploadedMeanwhile = aJob({ id: 'job-6', createdAt: at(6000), updatedAt: at(6000) });
    const jobs = mapOf(uploadedMeanwhile, j1);
    const merged = mergeFirstPage(jobs, aPage([j4, j3], 'cursor'), { query: DEFAULT_QUERY, heldBefore: new Set([j1.id]), dropOlder: true });
    expect([...merged.values()].sort(newestFirst).map((job) => job.id)).toEqual(['job-6', 'job-4', 'job-3']);
  });

  it('a resync: keeps older pages, forgets jobs deleted within the range the page covers', () => {
    const jobs = mapOf(j5, j4, j3, j2, j1);
    const merged = mergeFirstPage(jobs, aPage([j5, j3], 'cursor'), {
      query: DEFAULT_QUERY,
      heldBefore: new Set(jobs.keys()),
      dropOlder: false,
    });
    expect([...merged.keys()].sort()).toEqual(['job-1', 'job-2', 'job-3', 'job-5']);
  });

  it('the last page covers everything: all missing jobs are gone', () => {
    const jobs = mapOf(j5, j4, j1);
    const merged = mergeFirstPage(jobs, aPage([j5]), { query: DEFAULT_QUERY, heldBefore: new Set(jobs.keys()), dropOlder: false });
    expect([...merged.keys()]).toEqual(['job-5']);
  });

  it('does not forget a job that arrived after the request went out', () => {
    const fresh = aJob({ id: 'job-9', createdAt: at(500), updatedAt: at(500) });
    const merged = mergeFirstPage(mapOf(fresh), aPage([]), { query: DEFAULT_QUERY, heldBefore: new Set(), dropOlder: false });
    expect(merged.has('job-9')).toBe(true);
  });

  it('with a filter, only judges jobs that match it', () => {
    const failed = { ...j4, status: 'failed' as const };
    const completed = { ...j3, status: 'completed' as const };
    const jobs = mapOf(failed, completed);
    const merged = mergeFirstPage(jobs, aPage([]), {
      query: { ...DEFAULT_QUERY, status: 'failed' },
      heldBefore: new Set(jobs.keys()),
      dropOlder: false,
    });
    expect([...merged.keys()]).toEqual([completed.id]);
  });
});
