import type { JobPage, JobView } from '@app/shared';
import { changedAt } from './job-events';
import { compareJobs, JobQuery, matchesQuery } from './job-query';

/** Jobs by id; every change makes a new map so signals see it. */
export type JobMap = ReadonlyMap<string, JobView>;

/** Newest first, like `GET /api/jobs` (ids are time-ordered UUIDv7, so they break ties the same way). */
export const newestFirst = compareJobs('newest');

/**
 * Adds jobs read from the API. A copy that is older than the one held (a live event got there
 * first) does not replace it; one as new or newer does, since the API has every field.
 * Returns the same map when nothing changed.
 */
export function upsertJobs(jobs: JobMap, incoming: readonly JobView[]): JobMap {
  let next: Map<string, JobView> | null = null;
  for (const job of incoming) {
    const held = (next ?? jobs).get(job.id);
    if (held && (held === job || changedAt(held) > changedAt(job))) continue;
    next ??= new Map(jobs);
    next.set(job.id, job);
  }
  return next ?? jobs;
}

export function removeJob(jobs: JobMap, id: string): JobMap {
  if (!jobs.has(id)) return jobs;
  const next = new Map(jobs);
  next.delete(id);
  return next;
}

export interface FirstPageMerge {
  /** What the page was read with (filters and order). */
  query: JobQuery;
  /** Ids held when the request went out: only those can be judged missing from the answer. */
  heldBefore: ReadonlySet<string>;
  /** Also forget jobs older than the page (a new listing); otherwise keep them (a resync). */
  dropOlder: boolean;
}

/**
 * Merges a freshly read first page. The page is the truth for the range it covers (all of it when
 * there is no next page, else down to its last item in the list's order): a job that matched the
 * query, was held before the request and is not in that range any more has been deleted or has
 * left the query.
 */
export function mergeFirstPage(jobs: JobMap, page: JobPage, options: FirstPageMerge): JobMap {
  const merged = upsertJobs(jobs, page.items);
  const inPage = new Set(page.items.map((job) => job.id));
  const order = compareJobs(options.query.sort);
  const last =
    page.nextCursor === null ? null : page.items.reduce<JobView | null>((max, job) => (max && order(max, job) > 0 ? max : job), null);
  const covers = (job: JobView) => last === null || order(job, last) <= 0;
  let next: Map<string, JobView> | null = null;
  for (const job of merged.values()) {
    if (inPage.has(job.id)) continue;
    const gone = covers(job) && options.heldBefore.has(job.id) && matchesQuery(job, options.query);
    const beyond = !covers(job) && options.dropOlder;
    if (!gone && !beyond) continue;
    next ??= new Map(merged);
    next.delete(job.id);
  }
  return next ?? merged;
}
