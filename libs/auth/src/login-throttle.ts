import { Injectable, Logger } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { AppConfig, RedisConnections, TooManyRequestsError } from '@app/core';

export interface ThrottleLimits {
  /** Failed logins allowed per (email, client address) within the window; then 429 for that pair. */
  perEmailAndAddress: number;
  /** Failed logins allowed per client address, whatever the email, within the window; then 429. */
  perAddress: number;
  /** Failed logins per email, from anywhere, after which every attempt for it waits (longer and longer). */
  perEmailDelayAfter: number;
  /**
   * Failed logins per email, from anywhere, after which every address that has failed for it gets
   * 429 (far above the pair's limit); an address with no failure for it still gets its turn.
   */
  perEmail: number;
  /** The first wait, doubled with each further failure, up to `maxDelayMs`. */
  baseDelayMs: number;
  maxDelayMs: number;
  windowSeconds: number;
}

export const DEFAULT_LOGIN_LIMITS: ThrottleLimits = {
  perEmailAndAddress: 5,
  perAddress: 50,
  perEmailDelayAfter: 10,
  perEmail: 100,
  baseDelayMs: 500,
  maxDelayMs: 10_000,
  windowSeconds: 15 * 60,
};

/** A sign-in attempt under way, already counted as a failure; what to call when it ended otherwise. */
export interface LoginAttempt {
  /** The password was right: the attempt is not a failure, and this address starts afresh for the email. */
  succeeded(): Promise<void>;
  /** The attempt could not be judged (an error before the password was checked): it does not count. */
  withdrawn(): Promise<void>;
}

/**
 * KEYS: the pair's, the address's and the email's counters. ARGV: their limits, then the window in
 * seconds. Refuses ({1, ms until the longest block ends}) when a limit is reached (the email's only
 * for an address that has failed for it), else counts the attempt in all three, starting each
 * window at its first count, and gives {0, the email's failures before this one}.
 */
const BEGIN_SCRIPT = `
local pair = tonumber(redis.call('GET', KEYS[1]) or '0')
local address = tonumber(redis.call('GET', KEYS[2]) or '0')
local email = tonumber(redis.call('GET', KEYS[3]) or '0')
local blocked = -1
local function block(key) blocked = math.max(blocked, redis.call('PTTL', key), 1000) end
if pair >= tonumber(ARGV[1]) then block(KEYS[1]) end
if address >= tonumber(ARGV[2]) then block(KEYS[2]) end
if email >= tonumber(ARGV[3]) and pair > 0 then block(KEYS[3]) end
if blocked >= 0 then return {1, blocked} end
for i = 1, 3 do
  redis.call('INCR', KEYS[i])
  if redis.call('PTTL', KEYS[i]) < 0 then redis.call('EXPIRE', KEYS[i], ARGV[4]) end
end
return {0, email}
`;

/** KEYS as BEGIN_SCRIPT's. Takes one attempt back from each counter still above 0; ARGV[1] 1: deletes the pair's instead. */
const TAKE_BACK_SCRIPT = `
for i = 1, 3 do
  if i == 1 and ARGV[1] == '1' then
    redis.call('DEL', KEYS[1])
  elseif tonumber(redis.call('GET', KEYS[i]) or '0') > 0 then
    redis.call('DECR', KEYS[i])
  end
end
return 0
`;

/**
 * Counts failed logins in Redis so the limits hold across api instances. The 429 comes per
 * (email, client address): someone guessing from elsewhere cannot lock the owner out of their own
 * address. Guessing one email from many addresses is slowed per email instead: past
 * `perEmailDelayAfter` failures each attempt waits (0.5 s, 1 s, 2 s … 10 s), and only at the far
 * higher `perEmail` is the email refused, to every address that has failed for it (each new
 * address gets one guess, the owner's clean address still signs in). Counting and waiting happen whether or not
 * the email exists: neither the 429 nor the timing tells.
 */
@Injectable()
export class LoginThrottle {
  private readonly logger = new Logger(LoginThrottle.name);
  limits: ThrottleLimits = DEFAULT_LOGIN_LIMITS;

  constructor(
    private readonly redis: RedisConnections,
    private readonly config: AppConfig,
  ) {}

  /**
   * Starts a sign-in attempt: rejects with 429 when a counter is at its limit, otherwise counts
   * the attempt as a failure in advance and waits as long as the email's earlier failures ask for.
   * The check and the count are one Redis script, so attempts sent at once are counted one after
   * the other and the limits hold for them too (checked first and counted after the password,
   * 25 guesses sent together all got through). The caller then says how it ended: a wrong
   * password needs nothing more; `succeeded` takes the count back (and clears the pair);
   * `withdrawn` takes it back when the attempt could not be judged (the database was down).
   * While Redis is unreachable the check is skipped (logged): sign-in keeps working, still slowed
   * by bcrypt.
   */
  async begin(email: string, address: string): Promise<LoginAttempt> {
    const keys = this.keys(email, address);
    const { perEmailAndAddress, perAddress, perEmail, windowSeconds } = this.limits;
    let result: [number, number];
    try {
      result = (await this.redis
        .get('commands')
        .eval(BEGIN_SCRIPT, 3, keys.pair, keys.address, keys.email, perEmailAndAddress, perAddress, perEmail, windowSeconds)) as [
        number,
        number,
      ];
    } catch (error) {
      this.logger.warn(`Failed-login limit not checked (Redis unavailable: ${(error as Error).message})`);
      return { succeeded: () => Promise.resolve(), withdrawn: () => Promise.resolve() };
    }
    const [blocked, value] = result;
    if (blocked === 1) {
      const retryAfter = Math.max(1, Math.ceil(value / 1000));
      throw new TooManyRequestsError(`Too many failed sign-in attempts. Try again in ${formatWait(retryAfter)}.`, retryAfter);
    }
    const delay = this.delayMs(value);
    if (delay > 0) await sleep(delay);
    const takeBack = (clearPair: boolean) => async (): Promise<void> => {
      await this.redis
        .get('commands')
        .eval(TAKE_BACK_SCRIPT, 3, keys.pair, keys.address, keys.email, clearPair ? 1 : 0)
        .catch((error: Error) => this.logger.warn(`Sign-in attempt not taken back: ${error.message}`));
    };
    return { succeeded: takeBack(true), withdrawn: takeBack(false) };
  }

  /** The wait before an attempt for an email that has failed `failures` times in the window. */
  delayMs(failures: number): number {
    if (failures < this.limits.perEmailDelayAfter) return 0;
    const doublings = Math.min(failures - this.limits.perEmailDelayAfter, 30);
    return Math.min(this.limits.maxDelayMs, this.limits.baseDelayMs * 2 ** doublings);
  }

  private keys(email: string, address: string): { pair: string; address: string; email: string } {
    const prefix = `${this.config.redis.prefix}:login-fail`;
    // Hash the email so the keys do not list who tried to sign in.
    const emailHash = createHash('sha256').update(email).digest('base64url').slice(0, 22);
    return { pair: `${prefix}:pair:${emailHash}:${address}`, address: `${prefix}:addr:${address}`, email: `${prefix}:email:${emailHash}` };
  }
}

function formatWait(seconds: number): string {
  if (seconds < 90) return `${seconds} seconds`;
  return `${Math.ceil(seconds / 60)} minutes`;
}
