import { timingSafeEqual } from 'node:crypto';

/** Whether `given` equals the secret `expected`, compared in constant time. */
export function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * Whether a scraper may read `/metrics` (the api's and a worker's): with METRICS_TOKEN set, only
 * with `Authorization: Bearer <METRICS_TOKEN>`; without it, anyone (outside production, or in
 * production with METRICS_PUBLIC=true: the config loader refuses production with neither).
 */
export function mayScrapeMetrics(authorization: string | undefined, metricsToken: string | undefined): boolean {
  return !metricsToken || sameSecret(authorization ?? '', `Bearer ${metricsToken}`);
}
