import type { UploadResult } from '@app/shared';
import { ApiClient } from './support/client';
import { media } from './support/media';
import { CLOSING, part, rawUpload, RawAnswer } from './support/raw-upload';
import { TestStack } from './support/stack';

jest.setTimeout(180_000);

const LEASE_MS = 10_000;

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitUntil(check: () => Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await pause(50);
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('Idempotency-Key claims are leases (built api, Redis, SQLite)', () => {
  it('frees the key of a request whose api was killed mid-request within the lease, not after 24 h', async () => {
    const stack = await TestStack.start({ workers: 0 });
    const redis = stack.redis();
    try {
      const user = await ApiClient.register(stack.baseUrl);
      const leaseKey = `${stack.prefix}:idempotency:${user.user.id}:crash-key`;
      const file = await media.jpeg();
      // A request with the key that has sent its headers and part of its body, then the api dies.
      const head = part('first.jpg', file.data).subarray(0, 100);
      const dying = rawUpload(
        stack.baseUrl,
        user.token,
        head.length + 10_000,
        (socket) => {
          socket.write(head);
          return Promise.resolve();
        },
        {
          'Idempotency-Key': 'crash-key',
        },
      );
      await waitUntil(async () => (await redis.exists(leaseKey)) === 1, 'the lease in Redis');
      const ttl = await redis.pttl(leaseKey);
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(LEASE_MS);
      // While the request runs, a resend is told to wait.
      expect((await user.upload([file], { 'idempotency-key': 'crash-key' })).status).toBe(409);
      stack.api!.kill('SIGKILL');
      await stack.api!.exited;
      const killedAt = Date.now();
      expect((await dying).status).toBe(0);
      await stack.startApi();

      // The resend goes through once the lease has run out (on main: 409 for 24 h).
      let accepted: { status: number; body: UploadResult } | undefined;
      const statuses: number[] = [];
      await waitUntil(
        async () => {
          const response = await user.upload([file], { 'idempotency-key': 'crash-key' });
          statuses.push(response.status);
          if (response.status === 409) return false;
          accepted = response;
          return true;
        },
        'the resend to be accepted',
        LEASE_MS + 30_000,
      );
      expect(accepted!.status).toBe(201);
      expect(Date.now() - killedAt).toBeLessThan(LEASE_MS + 30_000);
      expect(new Set(statuses.slice(0, -1))).toEqual(statuses.length > 1 ? new Set([409]) : new Set());
      expect(accepted!.body.jobs).toHaveLength(1);
      // And from now on the key replays that response.
      const replay = await user.upload([file], { 'idempotency-key': 'crash-key' });
      expect(replay.status).toBe(201);
      expect(replay.headers.get('idempotent-replayed')).toBe('true');
      expect(replay.body).toEqual(accepted!.body);
      expect((await user.list()).body.items).toHaveLength(1);
    } finally {
      redis.disconnect();
      await stack.stop();
    }
  });

  it('keeps renewing the lease of a request that runs longer than it, so a resend meanwhile is 409', async () => {
    const stack = await TestStack.start({ workers: 0, env: { UPLOAD_IDLE_TIMEOUT_MS: '120000' } });
    const redis = stack.redis();
    try {
      const user = await ApiClient.register(stack.baseUrl);
      const leaseKey = `${stack.prefix}:idempotency:${user.user.id}:slow-key`;
      const file = await media.jpeg();
      const body = Buffer.concat([part('slow.jpg', file.data), CLOSING]);
      let finish!: () => void;
      const finished = new Promise<void>((resolve) => (finish = resolve));
      const slow: Promise<RawAnswer> = rawUpload(
        stack.baseUrl,
        user.token,
        body.length,
        async (socket) => {
          socket.write(body.subarray(0, 100));
          await finished;
          socket.write(body.subarray(100));
        },
        { 'Idempotency-Key': 'slow-key' },
      );
      await waitUntil(async () => (await redis.exists(leaseKey)) === 1, 'the lease in Redis');
      expect((await user.upload([file], { 'idempotency-key': 'slow-key' })).status).toBe(409);
      await pause(LEASE_MS * 1.5);
      expect(await redis.pttl(leaseKey)).toBeGreaterThan(0);
      expect((await user.upload([file], { 'idempotency-key': 'slow-key' })).status).toBe(409);
      finish();
      const answer = await slow;
      expect(answer.status).toBe(201);
      const replay = await user.upload([file], { 'idempotency-key': 'slow-key' });
      expect(replay.status).toBe(201);
      expect(replay.headers.get('idempotent-replayed')).toBe('true');
      expect(replay.body).toEqual(answer.body);
      expect((await user.list()).body.items).toHaveLength(1);
      expect(await redis.exists(leaseKey)).toBe(0);
    } finally {
      redis.disconnect();
      await stack.stop();
    }
  });
});
