import type { Redis } from 'ioredis';

/**
 * Per-user FIFO bookkeeping in Redis, changed only by the Lua scripts below (each runs atomically):
 *
 *   <prefix>:fifo:user:<userId>  list of the user's unfinished job ids in upload order; the head
 *                                 is the one job of that user allowed on the BullMQ queue
 *   <prefix>:fifo:users          set of users whose list is not empty
 *   <prefix>:fifo:epoch          present while this bookkeeping is complete; it disappears when
 *                                 Redis loses its data, and every writer then rebuilds from the database
 */
export class UserFifo {
  static readonly REBUILD_NEEDED = 'REBUILD';

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {
    redis.defineCommand('thumbsFifoPush', { numberOfKeys: 3, lua: PUSH });
    redis.defineCommand('thumbsFifoRemove', { numberOfKeys: 2, lua: REMOVE });
    redis.defineCommand('thumbsFifoWithdraw', { numberOfKeys: 2, lua: WITHDRAW });
  }

  listKey(userId: string): string {
    return `${this.prefix}:fifo:user:${userId}`;
  }

  get usersKey(): string {
    return `${this.prefix}:fifo:users`;
  }

  get epochKey(): string {
    return `${this.prefix}:fifo:epoch`;
  }

  /**
   * Appends job ids (skipping ones already listed) and resolves the user's head, or
   * REBUILD_NEEDED when the bookkeeping was lost and must be rebuilt first.
   */
  async push(userId: string, jobIds: readonly string[]): Promise<string> {
    return this.call('thumbsFifoPush', [this.listKey(userId), this.usersKey, this.epochKey, userId, ...jobIds]);
  }

  /** Removes a finished (or vanished) job wherever it is; resolves the new head, or null. */
  async remove(userId: string, jobId: string): Promise<string | null> {
    return this.call('thumbsFifoRemove', [this.listKey(userId), this.usersKey, userId, jobId]);
  }

  /**
   * Removes a job unless it is the head (which may be running: the worker removes it when it
   * gets to it). Resolves true when removed.
   */
  async withdraw(userId: string, jobId: string): Promise<boolean> {
    return (await this.call<number>('thumbsFifoWithdraw', [this.listKey(userId), this.usersKey, userId, jobId])) === 1;
  }

  async head(userId: string): Promise<string | null> {
    return this.redis.lindex(this.listKey(userId), 0);
  }

  async members(userId: string): Promise<string[]> {
    return this.redis.lrange(this.listKey(userId), 0, -1);
  }

  async users(): Promise<string[]> {
    return this.redis.smembers(this.usersKey);
  }

  async hasEpoch(): Promise<boolean> {
    return (await this.redis.exists(this.epochKey)) === 1;
  }

  /**
   * Replaces the whole bookkeeping with `lists` (user → job ids in order) and marks it complete,
   * in one MULTI so no reader sees a half-built state.
   */
  async replaceAll(lists: ReadonlyMap<string, readonly string[]>): Promise<void> {
    const stale = await this.users();
    const multi = this.redis.multi();
    for (const userId of stale) multi.del(this.listKey(userId));
    multi.del(this.usersKey);
    for (const [userId, jobIds] of lists) {
      if (jobIds.length === 0) continue;
      multi.rpush(this.listKey(userId), ...jobIds);
      multi.sadd(this.usersKey, userId);
    }
    multi.set(this.epochKey, String(Date.now()));
    await multi.exec();
  }

  private async call<T = string | null>(command: string, args: string[]): Promise<T> {
    const fn = (this.redis as unknown as Record<string, (...args: string[]) => Promise<T>>)[command];
    return fn.apply(this.redis, args);
  }
}

// KEYS: list, users, epoch. ARGV: userId, jobId...
const PUSH = `
if redis.call('EXISTS', KEYS[3]) == 0 then return 'REBUILD' end
for i = 2, #ARGV do
  if not redis.call('LPOS', KEYS[1], ARGV[i]) then redis.call('RPUSH', KEYS[1], ARGV[i]) end
end
redis.call('SADD', KEYS[2], ARGV[1])
return redis.call('LINDEX', KEYS[1], 0)
`;

// KEYS: list, users. ARGV: userId, jobId.
const REMOVE = `
redis.call('LREM', KEYS[1], 0, ARGV[2])
local head = redis.call('LINDEX', KEYS[1], 0)
if not head then redis.call('SREM', KEYS[2], ARGV[1]) end
return head
`;

// KEYS: list, users. ARGV: userId, jobId.
const WITHDRAW = `
if redis.call('LINDEX', KEYS[1], 0) == ARGV[2] then return 0 end
local removed = redis.call('LREM', KEYS[1], 0, ARGV[2])
if redis.call('LLEN', KEYS[1]) == 0 then redis.call('SREM', KEYS[2], ARGV[1]) end
return removed > 0 and 1 or 0
`;
