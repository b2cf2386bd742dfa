import fc from 'fast-check';
import IORedis from 'ioredis';
import { UserFifo } from './user-fifo';

/** Model-based test of the Lua scripts against a real Redis: every sequence of operations behaves like a list per user. */
describe('UserFifo (real Redis)', () => {
  const redis = new IORedis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
  const prefix = `${process.env.THUMBS_TEST_RUN ?? 'local'}-fifo-${process.pid}`;
  const fifo = new UserFifo(redis, prefix);

  afterAll(async () => {
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
  });

  beforeEach(async () => {
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length > 0) await redis.del(...keys);
  });

  it('asks for a rebuild while its epoch marker is missing', async () => {
    expect(await fifo.push('u', ['a'])).toBe(UserFifo.REBUILD_NEEDED);
    expect(await fifo.members('u')).toEqual([]);
    await fifo.replaceAll(new Map([['u', ['x', 'y']]]));
    expect(await fifo.push('u', ['y', 'z'])).toBe('x');
    expect(await fifo.members('u')).toEqual(['x', 'y', 'z']);
  });

  it('behaves like an ordered list per user under any sequence of operations', async () => {
    const users = ['u1', 'u2', 'u3'];
    const ids = ['a', 'b', 'c', 'd', 'e', 'f'];
    const op = fc.oneof(
      fc.record({
        kind: fc.constant('push' as const),
        user: fc.constantFrom(...users),
        jobIds: fc.array(fc.constantFrom(...ids), { minLength: 1, maxLength: 3 }),
      }),
      fc.record({ kind: fc.constant('remove' as const), user: fc.constantFrom(...users), jobId: fc.constantFrom(...ids) }),
      fc.record({ kind: fc.constant('withdraw' as const), user: fc.constantFrom(...users), jobId: fc.constantFrom(...ids) }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(op, { maxLength: 30 }), async (ops) => {
        await redis.del(...users.map((user) => fifo.listKey(user)), fifo.usersKey);
        await fifo.replaceAll(new Map());
        const model = new Map<string, string[]>(users.map((user) => [user, []]));
        for (const o of ops) {
          const list = model.get(o.user)!;
          if (o.kind === 'push') {
            for (const id of o.jobIds) if (!list.includes(id)) list.push(id);
            expect(await fifo.push(o.user, o.jobIds)).toBe(list[0]);
          } else if (o.kind === 'remove') {
            model.set(
              o.user,
              list.filter((id) => id !== o.jobId),
            );
            expect(await fifo.remove(o.user, o.jobId)).toBe(model.get(o.user)![0] ?? null);
          } else {
            const removable = list[0] !== o.jobId && list.includes(o.jobId);
            if (removable)
              model.set(
                o.user,
                list.filter((id) => id !== o.jobId),
              );
            expect(await fifo.withdraw(o.user, o.jobId)).toBe(removable);
          }
        }
        for (const user of users) expect(await fifo.members(user)).toEqual(model.get(user));
        expect((await fifo.users()).sort()).toEqual(users.filter((user) => model.get(user)!.length > 0).sort());
      }),
      { numRuns: 100 },
    );
  });

  it('publishes announced messages in the same script, in order, even when a rebuild is needed', async () => {
    const channel = `${prefix}:announcements`;
    const subscriber = new IORedis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
    const heard: string[] = [];
    subscriber.on('message', (_channel: string, message: string) => heard.push(message));
    await subscriber.subscribe(channel);
    try {
      expect(await fifo.push('u', ['a'], { channel, messages: ['a queued'] })).toBe(UserFifo.REBUILD_NEEDED);
      await fifo.replaceAll(new Map());
      expect(await fifo.push('u', ['a', 'b'], { channel, messages: ['a queued', 'b queued'] })).toBe('a');
      expect(await fifo.remove('u', 'a', { channel, messages: ['a completed'] })).toBe('b');
      expect(await fifo.remove('u', 'b')).toBeNull();
      expect(await fifo.push('u', ['c'], { channel, messages: [] })).toBe('c');
      const deadline = Date.now() + 2000;
      while (heard.length < 4 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
      expect(heard).toEqual(['a queued', 'a queued', 'b queued', 'a completed']);
      expect(await fifo.members('u')).toEqual(['c']);
    } finally {
      subscriber.disconnect();
    }
  });
});
