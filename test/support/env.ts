import IORedis from 'ioredis';
import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * Environment of a test deployment living in `dir` with Redis keys under `prefix`: its own SQLite
 * file, storage folder and JWT secret, cheap bcrypt, and rate limits out of the way (the suites
 * sign up and upload far faster than people do; the rate-limit tests set their own).
 */
export function testEnv(dir: string, prefix: string): Record<string, string> {
  return {
    NODE_ENV: 'test',
    DATA_DIR: dir,
    DATABASE_URL: `sqlite:${path.join(dir, 'thumbs.db')}`,
    STORAGE_URL: `file:${path.join(dir, 'files')}`,
    REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    QUEUE_PREFIX: prefix,
    BCRYPT_COST: '10',
    RATE_LIMIT_AUTH: '100000',
    RATE_LIMIT_UPLOADS: '100000',
    RATE_LIMIT_ARCHIVES: '100000',
  };
}

/** A prefix no other test run (or other session on the same Redis) uses. */
export function uniquePrefix(label: string): string {
  return `${process.env.THUMBS_TEST_RUN ?? `local${Date.now().toString(36)}`}-${label}`;
}

/** Deletes every Redis key under `prefix`. */
export async function clearRedisPrefix(redisUrl: string, prefix: string): Promise<void> {
  const redis = new IORedis(redisUrl, { maxRetriesPerRequest: 1 });
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      if (keys.length > 0) await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

/** Peak resident memory of a process so far (VmHWM), in MiB. */
export function peakRssMiB(pid: number): number {
  return Number(/VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;
}
