import fc from 'fast-check';
import IORedis from 'ioredis';
import * as path from 'node:path';
import { JOB_STATUSES, JobStatusEvent } from '@app/shared';
import { ApiClient } from './support/client';
import { ChildApp } from './support/child-app';
import { media } from './support/media';
import { PrivateRedis } from './support/private-redis';
import { StatusSocket } from './support/sockets';
import { freePort, TestStack, waitForHealthy } from './support/stack';
import { StatusHistory } from './support/status-history';

jest.setTimeout(300_000);

/**
 * Live status over Socket.IO with real clients, against two built api processes behind "a load
 * balancer" (clients spread over both), a built worker, Redis and SQLite.
 */
describe('real-time status (2 api processes, worker, Redis)', () => {
  let stack: TestStack;
  let secondApi: ChildApp;
  let secondUrl: string;
  let history: StatusHistory;
  let subscriber: IORedis;
  const published: { jobId: string; status: string }[] = [];

  beforeAll(async () => {
    stack = await TestStack.start({ workers: 1 });
    const port = await freePort();
    secondUrl = `http://127.0.0.1:${port}`;
    secondApi = new ChildApp('api', { ...stack.env, PORT: String(port) });
    await waitForHealthy(`${secondUrl}/api/health`, secondApi);
    history = new StatusHistory(path.join(stack.dir, 'thumbs.db'));
    subscriber = new IORedis(stack.env.REDIS_URL);
    subscriber.on('message', (_channel: string, payload: string) => published.push(JSON.parse(payload)));
    await subscriber.subscribe(`${stack.prefix}:job-status`);
  });

  afterAll(async () => {
    subscriber?.disconnect();
    history?.close();
    await secondApi?.stop();
    await stack?.stop();
  });

  it('refuses a handshake without a valid token with connect_error "unauthorized"', async () => {
    const user = await ApiClient.register(stack.baseUrl);
    for (const token of [undefined, '', 'garbage', `${user.token}x`, user.token.split('.').slice(0, 2).join('.') + '.AAAA']) {
      await expect(StatusSocket.connect(stack.baseUrl, token)).rejects.toThrow('unauthorized');
    }
    const ok = await StatusSocket.connect(secondUrl, user.token);
    ok.close();
  });

  it('lets one user open at most 50 sockets on an instance (connect_error "too_many_connections"), others unaffected', async () => {
    const user = await ApiClient.register(stack.baseUrl);
    const open = await Promise.all(Array.from({ length: 50 }, () => StatusSocket.connect(stack.baseUrl, user.token)));
    try {
      await expect(StatusSocket.connect(stack.baseUrl, user.token)).rejects.toThrow('too_many_connections');
      const someoneElse = await StatusSocket.connect(stack.baseUrl, (await ApiClient.register(stack.baseUrl)).token);
      someoneElse.close();
      // Another instance counts its own sockets.
      (await StatusSocket.connect(secondUrl, user.token)).close();
      open.pop()!.close();
      // Once the server has seen that one go, a new one is let in.
      const deadline = Date.now() + 20_000;
      for (;;) {
        const again = await StatusSocket.connect(stack.baseUrl, user.token).catch((error: Error) => error);
        if (!(again instanceof Error)) {
          again.close();
          break;
        }
        expect(again.message).toBe('too_many_connections');
        if (Date.now() > deadline) throw new Error('no room after a socket closed');
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    } finally {
      for (const socket of open) socket.close();
    }
  });

  // Feature: thumbnail-generation-system, Property 25: every status change is published to Redis pub/sub.
  it('Property 25: status change publication (Requirements 6.1)', async () => {
    const user = await ApiClient.register(stack.baseUrl);
    await fc.assert(
      fc.asyncProperty(fc.array(fc.boolean(), { minLength: 1, maxLength: 4 }), async (goods) => {
        const files = await Promise.all(goods.map(async (good) => (good ? media.jpeg(64, 48) : media.brokenJpeg())));
        const jobs = await user.uploadOk(files);
        for (const job of jobs) await user.waitFor(job.id);
        await new Promise((resolve) => setTimeout(resolve, 20));
        for (const job of jobs) {
          const changes = history.of(job.id).filter((status) => status !== 'pending');
          expect(published.filter((message) => message.jobId === job.id).map((message) => message.status)).toEqual(changes);
        }
      }),
      { numRuns: 100 },
    );
  });

  // Feature: thumbnail-generation-system, Property 26: what is published reaches the Socket.IO servers (both instances).
  it('Property 26: pub/sub message receipt (Requirements 6.2)', async () => {
    const [alice, bob] = [await ApiClient.register(stack.baseUrl), await ApiClient.register(stack.baseUrl)];
    const sockets = {
      aliceA: await StatusSocket.connect(stack.baseUrl, alice.token),
      aliceB: await StatusSocket.connect(secondUrl, alice.token),
      bobB: await StatusSocket.connect(secondUrl, bob.token),
    };
    const publisher = new IORedis(stack.env.REDIS_URL);
    try {
      let n = 0;
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom(alice, bob),
          fc.constantFrom(...JOB_STATUSES),
          fc.option(fc.string({ maxLength: 80 }), { nil: undefined }),
          async (owner, status, errorMessage) => {
            n += 1;
            const jobId = `01900000-0000-7000-8000-${String(n).padStart(12, '0')}`;
            const message = {
              jobId,
              userId: owner.user.id,
              status,
              timestamp: Date.now(),
              ...(errorMessage === undefined ? {} : { errorMessage }),
            };
            await publisher.publish(`${stack.prefix}:job-status`, JSON.stringify(message));
            const receivers = owner === alice ? [sockets.aliceA, sockets.aliceB] : [sockets.bobB];
            for (const socket of receivers) {
              const event = await socket.waitFor((e) => e.jobId === jobId);
              expect(event).toMatchObject(message);
              if (status === 'completed') {
                expect(event.thumbnailUrl).toMatch(new RegExp(`^/api/thumbnails/${jobId}\\.jpg\\?exp=\\d+&sig=`));
                expect(event.downloadUrl).toMatch(new RegExp(`^/api/download/${jobId}\\.jpg\\?exp=\\d+&sig=`));
              } else {
                expect(event.thumbnailUrl).toBeUndefined();
              }
            }
          },
        ),
        { numRuns: 100 },
      );
      // Nobody got anyone else's events.
      expect(sockets.bobB.events.every((event) => event.userId === bob.user.id)).toBe(true);
      expect([...sockets.aliceA.events, ...sockets.aliceB.events].every((event) => event.userId === alice.user.id)).toBe(true);
    } finally {
      publisher.disconnect();
      Object.values(sockets).forEach((socket) => socket.close());
    }
  });

  // Feature: thumbnail-generation-system, Property 27: each update reaches every socket of its user (exactly once), and no one else.
  it('Property 27: client notification emission (Requirements 6.3)', async () => {
    const users = [
      await ApiClient.register(stack.baseUrl),
      await ApiClient.register(stack.baseUrl),
      await ApiClient.register(stack.baseUrl),
    ];
    // Each user has sockets on both api instances (a load balancer spreads them); the third has two on one.
    const sockets = new Map<string, StatusSocket[]>();
    sockets.set(users[0].user.id, [
      await StatusSocket.connect(stack.baseUrl, users[0].token),
      await StatusSocket.connect(secondUrl, users[0].token),
    ]);
    sockets.set(users[1].user.id, [await StatusSocket.connect(secondUrl, users[1].token)]);
    sockets.set(users[2].user.id, [
      await StatusSocket.connect(stack.baseUrl, users[2].token),
      await StatusSocket.connect(stack.baseUrl, users[2].token),
    ]);
    try {
      await fc.assert(
        fc.asyncProperty(fc.constantFrom(0, 1, 2), fc.integer({ min: 1, max: 3 }), async (userIndex, count) => {
          const user = users[userIndex];
          const jobs = await user.uploadOk(await Promise.all(Array.from({ length: count }, () => media.jpeg(48, 48))));
          for (const job of jobs) {
            for (const socket of sockets.get(user.user.id)!) await socket.waitFor((e) => e.jobId === job.id && e.status === 'completed');
          }
          await new Promise((resolve) => setTimeout(resolve, 20));
          for (const job of jobs) {
            const expected = history.of(job.id).filter((status) => status !== 'pending');
            for (const [owner, list] of sockets) {
              for (const socket of list) {
                const got = socket.events.filter((event) => event.jobId === job.id).map((event) => event.status);
                // Every socket of the owner got every change exactly once, in order; other users got none.
                expect(got).toEqual(owner === user.user.id ? expected : []);
              }
            }
          }
        }),
        { numRuns: 100 },
      );
      // Per socket, events arrive in the order they happened.
      for (const list of sockets.values()) for (const socket of list) assertOrdered(socket.events);
    } finally {
      for (const list of sockets.values()) list.forEach((socket) => socket.close());
    }
  });
});

describe('token expiry on a live socket', () => {
  it('disconnects a socket when its token expires, and refuses the expired token on reconnect', async () => {
    const stack = await TestStack.start({ workers: 0, env: { JWT_EXPIRES_IN: '2s' } });
    try {
      const user = await ApiClient.register(stack.baseUrl);
      const socket = await StatusSocket.connect(stack.baseUrl, user.token);
      const notice = new Promise<void>((resolve) => socket.socket.once('session:expired', () => resolve()));
      const disconnected = new Promise<string>((resolve) => socket.socket.once('disconnect', resolve));
      await notice;
      expect(await disconnected).toBe('io server disconnect');
      await expect(StatusSocket.connect(stack.baseUrl, user.token)).rejects.toThrow('unauthorized');
      expect((await user.list()).status).toBe(401);
    } finally {
      await stack.stop();
    }
  });
});

/** Per job, statuses move forward along the lifecycle, and timestamps never go back. */
function assertOrdered(events: JobStatusEvent[]): void {
  const rank: Record<string, number> = { queued: 1, processing: 2, completed: 3, failed: 3 };
  const last = new Map<string, JobStatusEvent>();
  for (const event of events) {
    const previous = last.get(event.jobId);
    if (previous) {
      expect(event.timestamp).toBeGreaterThanOrEqual(previous.timestamp);
      expect(rank[event.status]).toBeGreaterThanOrEqual(rank[previous.status]);
    }
    last.set(event.jobId, event);
  }
}

describe('a lost Redis subscription', () => {
  it('asks the sockets it kept to re-read (jobs:resync) once Redis is back, and forwards events again', async () => {
    const redis = await PrivateRedis.start();
    const stack = await TestStack.start({ workers: 1, env: { REDIS_URL: redis.url } });
    try {
      const user = await ApiClient.register(stack.baseUrl);
      const socket = await StatusSocket.connect(stack.baseUrl, user.token);
      let resyncs = 0;
      socket.socket.on('jobs:resync', () => (resyncs += 1));
      try {
        // Whatever was published while it was gone is lost: the api cannot forward it.
        await redis.kill();
        await new Promise((resolve) => setTimeout(resolve, 1500));
        expect(socket.socket.connected).toBe(true);
        expect(resyncs).toBe(0);
        await redis.restart();
        for (let i = 0; i < 150 && resyncs === 0; i += 1) await new Promise((resolve) => setTimeout(resolve, 200));
        expect(resyncs).toBe(1);
        // Subscribed again: a new job's events reach the same socket.
        const [job] = await user.uploadOk([await media.jpeg(40, 30)]);
        await socket.waitFor((event) => event.jobId === job.id && event.status === 'completed', 60_000);
      } finally {
        socket.close();
      }
    } finally {
      await stack.stop();
      await redis.kill();
    }
  });
});
