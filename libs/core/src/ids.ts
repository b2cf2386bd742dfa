import { v7 } from 'uuid';

/**
 * A UUIDv7 (the `uuid` package): 48 bits of milliseconds, then a counter that keeps ids made in
 * the same millisecond by this process in order, then random bits. Ids sort by creation time, so
 * they serve as the keyset for paging and as the per-user upload order. uuid 11 is the last major
 * that ships CommonJS, which the api's and worker's bundles and Jest load as they are.
 */
export function newId(): string {
  return v7();
}

export const ID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function isId(value: unknown): value is string {
  return typeof value === 'string' && ID_PATTERN.test(value);
}
