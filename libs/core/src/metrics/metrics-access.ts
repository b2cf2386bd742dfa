import { timingSafeEqual } from 'node:crypto';

/** Whether `given` equals the secret `expected`, compared in constant time. */
export function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * Whether a scraper may read `/metrics` (the api's and a worker's): always while no METRICS_TOKEN
 * is set, else only with `Authorization: Bearer <METRICS_TOKEN>`.
 */
export function mayScrapeMetrics(authorization: string | undefined, metricsToken: string | undefined): boolean {
  return !metricsToken || sameSecret(authorization ?? '', `Bearer ${metricsToken}`);
}
