import type { Redis } from 'ioredis';

/** Messages to PUBLISH on `channel` in the same script, before the list changes (one round trip, not two). */
export interface Announcement {
  channel: string;
  messages: readonly string[];
}

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
  async push(userId: string, jobIds: readonly string[], announce?: Announcement): Promise<string> {
    return this.call('thumbsFifoPush', [
      this.listKey(userId),
      this.usersKey,
      this.epochKey,
      userId,
      String(jobIds.length),
      ...jobIds,
      ...announcement(announce),
    ]);
  }

  /** Removes a finished (or vanished) job wherever it is; resolves the new head, or null. */
  async remove(userId: string, jobId: string, announce?: Announcement): Promise<string | null> {
    return this.call('thumbsFifoRemove', [this.listKey(userId), this.usersKey, userId, jobId, ...announcement(announce)]);
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

/** ARGV tail of a script that announces: the channel, then the messages; nothing when there are none. */
function announcement(announce: Announcement | undefined): string[] {
  return announce && announce.messages.length > 0 ? [announce.channel, ...announce.messages] : [];
}

// Publishes ARGV[from + 1 ..] on channel ARGV[from], if there is one.
const ANNOUNCE = `
local function announce(from)
  for i = from + 1, #ARGV do redis.call('PUBLISH', ARGV[from], ARGV[i]) end
end
`;

// KEYS: list, users, epoch. ARGV: userId, n, n job ids, [channel, messages...].
// The messages go out even when a rebuild is needed (the caller retries without them).
const PUSH = `${ANNOUNCE}
local n = tonumber(ARGV[2])
announce(3 + n)
if redis.call('EXISTS', KEYS[3]) == 0 then return 'REBUILD' end
for i = 3, 2 + n do
  if not redis.call('LPOS', KEYS[1], ARGV[i]) then redis.call('RPUSH', KEYS[1], ARGV[i]) end
end
redis.call('SADD', KEYS[2], ARGV[1])
return redis.call('LINDEX', KEYS[1], 0)
`;

// KEYS: list, users. ARGV: userId, jobId, [channel, messages...].
const REMOVE = `${ANNOUNCE}
announce(3)
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
