/** The delay before the `attempt`th retry (from 1): `firstMs`, doubling each time, never more than `maxMs`. */
export function backoffDelay(attempt: number, firstMs: number, maxMs: number): number {
  return Math.min(firstMs * 2 ** (attempt - 1), maxMs);
}
