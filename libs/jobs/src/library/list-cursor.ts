import { isId } from '@app/core';
import { JOB_SORTS, type JobSort, type ListPosition } from '../jobs.repository';

/**
 * `nextCursor` of `GET /api/jobs`: opaque to clients (base64url of JSON), it holds the order it
 * belongs to and the last job's position in it (its sort key and id), so the next page starts
 * right after that job whatever was added or removed meanwhile, under every order, ties included.
 */
export function encodeCursor(sort: JobSort, position: ListPosition): string {
  return Buffer.from(JSON.stringify([sort, position.key, position.id]), 'utf8').toString('base64url');
}

/** The position in a cursor made by `encodeCursor` for `sort`; null for anything else (malformed, or another order's). */
export function decodeCursor(cursor: string, sort: JobSort): ListPosition | null {
  if (!/^[A-Za-z0-9_-]+$/.test(cursor)) return null;
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    return null;
  }
  if (!Array.isArray(value) || value.length !== 3) return null;
  const [from, key, id] = value as unknown[];
  if (typeof from !== 'string' || !(JOB_SORTS as readonly string[]).includes(from) || from !== sort || !isId(id)) return null;
  const keyOk = sort === 'name' ? typeof key === 'string' : typeof key === 'number' && Number.isSafeInteger(key) && key >= 0;
  return keyOk ? { key: key as number | string, id } : null;
}
