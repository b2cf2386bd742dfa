import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadConfig, RedisConnections, TooManyRequestsError } from '@app/core';
import { DEFAULT_LOGIN_LIMITS, LoginThrottle } from './login-throttle';

/** The failed-login counters on a real Redis, with limits small enough to reach in a unit test. */
describe('LoginThrottle (real Redis)', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'thumbs-throttle-'));
  const prefix = `${process.env.THUMBS_TEST_RUN ?? 'local'}-throttle-${process.pid}`;
  const config = loadConfig({ NODE_ENV: 'test', DATA_DIR: dir, QUEUE_PREFIX: prefix, REDIS_URL: process.env.REDIS_URL ?? '' }, dir);
  const redis = new RedisConnections(config);
  const throttle = new LoginThrottle(redis, config);

  afterAll(async () => {
    const client = redis.get('commands');
    const keys = await client.keys(`${prefix}:*`);
    if (keys.length > 0) await client.del(...keys);
    await redis.onApplicationShutdown();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('waits 0.5 s from the 10th failure of an email, doubling to at most 10 s', () => {
    const delays = [0, 9, 10, 11, 12, 14, 15, 16, 1000].map((failures) => throttle.delayMs(failures));
    expect(delays).toEqual([0, 0, 500, 1000, 2000, 8000, 10_000, 10_000, 10_000]);
    expect(DEFAULT_LOGIN_LIMITS).toMatchObject({ perEmailAndAddress: 5, perAddress: 50, perEmailDelayAfter: 10, perEmail: 100 });
  });

  /** `count` attempts from `address` that each end as a wrong password. */
  async function fail(email: string, address: string, count = 1): Promise<void> {
    for (let i = 0; i < count; i++) await throttle.begin(email, address);
  }

  it('past perEmail failures refuses every address that failed for the email, and still lets a clean one try', async () => {
    throttle.limits = { ...DEFAULT_LOGIN_LIMITS, perEmail: 4, perEmailDelayAfter: 1000 };
    const email = `victim-${Date.now()}@example.com`;
    for (const address of ['10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.4']) await fail(email, address);
    for (const address of ['10.0.0.1', '10.0.0.4'])
      await expect(throttle.begin(email, address)).rejects.toBeInstanceOf(TooManyRequestsError);
    // The owner, from a clean address, signs in; another email from the same addresses is untouched.
    await (await throttle.begin(email, '192.168.1.20')).succeeded();
    await (await throttle.begin(`other-${email}`, '10.0.0.1')).succeeded();
    await expect(throttle.begin(email, '10.0.0.1')).rejects.toBeInstanceOf(TooManyRequestsError);
  });

  it('a success clears its own pair; an attempt withdrawn does not count', async () => {
    throttle.limits = { ...DEFAULT_LOGIN_LIMITS, perEmailAndAddress: 3, perEmailDelayAfter: 1000 };
    const email = `owner-${Date.now()}@example.com`;
    await fail(email, '10.1.0.1', 2);
    await (await throttle.begin(email, '10.1.0.1')).succeeded();
    // Three fresh failures before the pair is refused.
    await fail(email, '10.1.0.1', 3);
    await expect(throttle.begin(email, '10.1.0.1')).rejects.toBeInstanceOf(TooManyRequestsError);
    for (let i = 0; i < 6; i++) await (await throttle.begin(email, '10.1.0.2')).withdrawn();
    await fail(email, '10.1.0.2', 3);
    await expect(throttle.begin(email, '10.1.0.2')).rejects.toBeInstanceOf(TooManyRequestsError);
  });

  it('attempts sent at once are counted one after the other: the limit holds for them too', async () => {
    throttle.limits = { ...DEFAULT_LOGIN_LIMITS, perEmailDelayAfter: 1000 };
    const email = `raced-${Date.now()}@example.com`;
    const outcomes = await Promise.allSettled(Array.from({ length: 25 }, () => throttle.begin(email, '10.2.0.1')));
    expect(outcomes.filter((outcome) => outcome.status === 'fulfilled')).toHaveLength(DEFAULT_LOGIN_LIMITS.perEmailAndAddress);
    for (const outcome of outcomes) if (outcome.status === 'rejected') expect(outcome.reason).toBeInstanceOf(TooManyRequestsError);
  });
});
