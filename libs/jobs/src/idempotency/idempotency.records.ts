/** How long the response of a request with an Idempotency-Key is kept and replayed. */
export const IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;

/**
 * Persistence port of idempotency: the response of each finished request per (user, key), kept
 * IDEMPOTENCY_TTL_MS. Requests still running are not recorded here: they hold a lease in Redis
 * (see `Idempotency`), which expires on its own when the process that ran them is gone.
 * Adapters: SQLite and MongoDB.
 */
export abstract class IdempotencyRecords {
  /** The response kept for the user's key, or null (none, or older than IDEMPOTENCY_TTL_MS at `now`). */
  abstract findResponse(userId: string, key: string, now: Date): Promise<string | null>;
  /** Keeps the response for the user's key; an unexpired response already kept stays (the first one wins). */
  abstract saveResponse(userId: string, key: string, response: string, now: Date): Promise<void>;
}
