import fc from 'fast-check';
import { aJob, at, jobListArb, statusArb } from '../../testing/jobs';
import { compareJobs, DEFAULT_QUERY, JOB_SORTS, matchesQuery, paramsFromQuery, queryFromParams, sortJobs } from './job-query';

describe('job queries', () => {
  it('survive a trip through the URL, with defaults left out', () => {
    const queryArb = fc.record({
      status: fc.option(statusArb, { nil: null }),
      type: fc.constantFrom(null, 'image' as const, 'video' as const),
      q: fc.string({ maxLength: 30 }).map((text) => text.trim()),
      sort: fc.constantFrom(...JOB_SORTS),
    });
    fc.assert(
      fc.property(queryArb, (query) => {
        const params = Object.fromEntries(Object.entries(paramsFromQuery(query)).filter(([, value]) => value !== null)) as Record<
          string,
          string
        >;
        expect(queryFromParams(params)).toEqual(query);
      }),
      { numRuns: 200 },
    );
    expect(paramsFromQuery(DEFAULT_QUERY)).toEqual({ status: null, type: null, q: null, sort: null });
  });

  it('ignore what they do not know in a URL', () => {
    expect(queryFromParams({ status: 'lost', type: 'audio', sort: 'colour', q: `  ${'x'.repeat(300)} ` })).toEqual({
      status: null,
      type: null,
      q: 'x'.repeat(200),
      sort: 'newest',
    });
  });

  it('match jobs by status, type, trash and any case of a part of the name', () => {
    const job = aJob({ originalFilename: 'Summer Holiday.JPG', status: 'completed', fileType: 'image' });
    expect(matchesQuery(job, DEFAULT_QUERY)).toBe(true);
    expect(matchesQuery(job, { ...DEFAULT_QUERY, q: 'holiday.jp' })).toBe(true);
    expect(matchesQuery(job, { ...DEFAULT_QUERY, q: 'winter' })).toBe(false);
    expect(matchesQuery(job, { ...DEFAULT_QUERY, status: 'failed' })).toBe(false);
    expect(matchesQuery(job, { ...DEFAULT_QUERY, type: 'video' })).toBe(false);
    expect(matchesQuery(job, { ...DEFAULT_QUERY, trashed: true })).toBe(false);
    expect(matchesQuery({ ...job, deletedAt: at(5) }, { ...DEFAULT_QUERY, trashed: true })).toBe(true);
  });

  it('order by each sort, ids breaking ties', () => {
    const a = aJob({ id: 'a', originalFilename: 'b.jpg', fileSize: 10, createdAt: at(1) });
    const b = aJob({ id: 'b', originalFilename: 'A.jpg', fileSize: 30, createdAt: at(2) });
    const c = aJob({ id: 'c', originalFilename: 'c.jpg', fileSize: 30, createdAt: at(2) });
    const ids = (sort: (typeof JOB_SORTS)[number]) => sortJobs([a, b, c], sort).map((job) => job.id);
    expect(ids('newest')).toEqual(['c', 'b', 'a']);
    expect(ids('oldest')).toEqual(['a', 'b', 'c']);
    expect(ids('name')).toEqual(['b', 'a', 'c']);
    expect(ids('size')).toEqual(['c', 'b', 'a']);
  });

  it('sort exactly as their comparison orders, for any jobs', () => {
    fc.assert(
      fc.property(jobListArb(30), fc.constantFrom(...JOB_SORTS), (jobs, sort) => {
        expect(sortJobs(jobs, sort)).toEqual([...jobs].sort(compareJobs(sort)));
      }),
      { numRuns: 200 },
    );
  });
});
