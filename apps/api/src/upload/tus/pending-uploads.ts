import type { Redis } from 'ioredis';

/** How many unfinished resumable uploads one user may have at once. */
export const MAX_PENDING_UPLOADS = 50;

export type Reservation = { ok: true } | { ok: false; why: 'too_many'; count: number } | { ok: false; why: 'quota'; pendingBytes: number };

/**
 * Atomically: forget the user's reservations older than the expiry (their uploads are removed by
 * then), refuse past MAX_PENDING_UPLOADS or when used + pending + size would pass the quota (0:
 * none), else record `id` → "size:createdAtMs". Returns {0} ok, {1, count} too many, {2, pending bytes} quota.
 */
const RESERVE = `
local entries = redis.call('HGETALL', KEYS[1])
local now = tonumber(ARGV[1])
local expiry = tonumber(ARGV[2])
local count, pending = 0, 0
for i = 1, #entries, 2 do
  local size, created = string.match(entries[i + 1], '^(%d+):(%d+)$')
  if size == nil or tonumber(created) + expiry < now then
    redis.call('HDEL', KEYS[1], entries[i])
  else
    count = count + 1
    pending = pending + tonumber(size)
  end
end
if count >= tonumber(ARGV[6]) then return {1, count} end
local quota = tonumber(ARGV[4])
if quota > 0 and tonumber(ARGV[5]) + pending + tonumber(ARGV[3]) > quota then return {2, pending} end
redis.call('HSET', KEYS[1], ARGV[7], ARGV[3] .. ':' .. ARGV[1])
redis.call('PEXPIRE', KEYS[1], expiry)
return {0, count + 1}
`;

/**
 * The unfinished tus uploads of each user, kept in Redis (shared by every api instance) from
 * creation until they finish, are refused, terminated or expire: they count against
 * USER_QUOTA_BYTES and MAX_PENDING_UPLOADS before their bytes arrive, so unfinished uploads cannot
 * hold more disk than the quota allows (the quota was only checked at the last PATCH).
 */
export class PendingUploads {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly expiryMs: number,
  ) {}

  async reserve(userId: string, id: string, size: number, quota: { limit: number; used: number }): Promise<Reservation> {
    const [code, value] = (await this.redis.eval(
      RESERVE,
      1,
      this.key(userId),
      Date.now(),
      this.expiryMs,
      size,
      quota.limit,
      quota.used,
      MAX_PENDING_UPLOADS,
      id,
    )) as [number, number];
    if (code === 1) return { ok: false, why: 'too_many', count: value };
    if (code === 2) return { ok: false, why: 'quota', pendingBytes: value };
    return { ok: true };
  }

  async release(userId: string, id: string): Promise<void> {
    await this.redis.hdel(this.key(userId), id);
  }

  private key(userId: string): string {
    return `${this.prefix}:tus-pending:${userId}`;
  }
}
