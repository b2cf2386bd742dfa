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

  it('past perEmail failures refuses every address that failed for the email, and still lets a clean one try', async () => {
    throttle.limits = { ...DEFAULT_LOGIN_LIMITS, perEmail: 4, perEmailDelayAfter: 1000 };
    const email = `victim-${Date.now()}@example.com`;
    for (const address of ['10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.4']) {
      await throttle.assertAllowed(email, address);
      await throttle.recordFailure(email, address);
    }
    for (const address of ['10.0.0.1', '10.0.0.4'])
      await expect(throttle.assertAllowed(email, address)).rejects.toBeInstanceOf(TooManyRequestsError);
    await expect(throttle.assertAllowed(email, '192.168.1.20')).resolves.toBeUndefined();
    // Another email from the same addresses is untouched.
    await expect(throttle.assertAllowed(`other-${email}`, '10.0.0.1')).resolves.toBeUndefined();
    // A success clears only its own pair: that address may try again, the email's count stays.
    await throttle.recordSuccess(email, '10.0.0.1');
    await expect(throttle.assertAllowed(email, '10.0.0.1')).resolves.toBeUndefined();
    await throttle.recordFailure(email, '10.0.0.1');
    await expect(throttle.assertAllowed(email, '10.0.0.1')).rejects.toBeInstanceOf(TooManyRequestsError);
  });
});
