import { FILE_TYPES, FileType, JOB_STATUSES, JobStatus, JobView } from '@app/shared';
import { jobMedia } from './job-media';

export const JOB_SORTS = ['newest', 'oldest', 'name', 'size'] as const;
export type JobSort = (typeof JOB_SORTS)[number];

/** Which jobs a list shows and in what order (`GET /api/jobs` parameters). */
export interface JobQuery {
  readonly status: JobStatus | null;
  readonly type: FileType | null;
  /** Case-insensitive part of the file name; '' for all. */
  readonly q: string;
  readonly sort: JobSort;
  /** The trash instead of the library. */
  readonly trashed: boolean;
}

export const DEFAULT_QUERY: JobQuery = { status: null, type: null, q: '', sort: 'newest', trashed: false };

/** Longest search text sent. */
export const MAX_SEARCH_LENGTH = 200;

export function sameQuery(a: JobQuery, b: JobQuery): boolean {
  return a.status === b.status && a.type === b.type && a.q === b.q && a.sort === b.sort && a.trashed === b.trashed;
}

/** Whether a held job belongs in a list read with `query` (the API's rules, applied to live changes). */
export function matchesQuery(job: JobView, query: JobQuery): boolean {
  if (query.status !== null && job.status !== query.status) return false;
  if (query.type !== null && job.fileType !== query.type) return false;
  if ((jobMedia(job).deletedAt !== null) !== query.trashed) return false;
  if (query.q !== '' && !job.originalFilename.toLowerCase().includes(query.q.toLowerCase())) return false;
  return true;
}

/** The part of a URL's query parameters that describes a job list; anything unknown is ignored. */
export function queryFromParams(params: Readonly<Record<string, string | undefined>>): Omit<JobQuery, 'trashed'> {
  const status = params['status'];
  const type = params['type'];
  const sort = params['sort'];
  return {
    status: JOB_STATUSES.includes(status as JobStatus) ? (status as JobStatus) : null,
    type: FILE_TYPES.includes(type as FileType) ? (type as FileType) : null,
    q: (params['q'] ?? '').trim().slice(0, MAX_SEARCH_LENGTH),
    sort: JOB_SORTS.includes(sort as JobSort) ? (sort as JobSort) : 'newest',
  };
}

/** URL query parameters for a list (defaults left out, so the plain library has a plain URL). */
export function paramsFromQuery(query: Omit<JobQuery, 'trashed'>): Record<string, string | null> {
  return {
    status: query.status,
    type: query.type,
    q: query.q === '' ? null : query.q,
    sort: query.sort === 'newest' ? null : query.sort,
  };
}

/** Sort key of a job: a number or text, then the id breaks ties (ids are time-ordered UUIDv7). */
type Key = number | string;

const KEY: Readonly<Record<JobSort, (job: JobView) => Key>> = {
  newest: (job) => -Date.parse(job.createdAt),
  oldest: (job) => Date.parse(job.createdAt),
  name: (job) => job.originalFilename.toLowerCase(),
  size: (job) => -job.fileSize,
};

/**
 * Keys already computed, per order and job object (a job's copy is replaced, never changed): the
 * library is sorted again at every page and event, and 10,000 dates parsed each time cost more
 * than the sort.
 */
const SORT_KEYS: Readonly<Record<JobSort, WeakMap<JobView, Key>>> = {
  newest: new WeakMap(),
  oldest: new WeakMap(),
  name: new WeakMap(),
  size: new WeakMap(),
};

/** Ties broken by id: newest-first orders put the larger id first, the others the smaller. */
const ID_DESCENDING: Readonly<Record<JobSort, boolean>> = { newest: true, oldest: false, name: false, size: true };

/** Orders two jobs as `GET /api/jobs` does for `sort`. */
export function compareJobs(sort: JobSort): (a: JobView, b: JobView) => number {
  const key = KEY[sort];
  const idOrder = ID_DESCENDING[sort] ? -1 : 1;
  return (a, b) => compareKeys(key(a), key(b)) || idOrder * compareKeys(a.id, b.id);
}

/**
 * `jobs` in the order of `sort`. Each key is computed once (decorate, sort, undecorate): sorting
 * 10,000 jobs by parsing dates inside the comparison would parse 280,000 dates.
 */
export function sortJobs(jobs: readonly JobView[], sort: JobSort): JobView[] {
  const key = KEY[sort];
  const known = SORT_KEYS[sort];
  const idOrder = ID_DESCENDING[sort] ? -1 : 1;
  const decorated = jobs.map((job) => {
    let value = known.get(job);
    if (value === undefined) known.set(job, (value = key(job)));
    return { key: value, job };
  });
  decorated.sort((a, b) => compareKeys(a.key, b.key) || idOrder * compareKeys(a.job.id, b.job.id));
  return decorated.map((entry) => entry.job);
}

function compareKeys(a: Key, b: Key): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
