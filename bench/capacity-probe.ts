/**
 * What one job costs each shared component, for docs/capacity.md: `npm run bench:capacity`.
 * Starts the built api and one worker on a private redis-server (so that INFO commandstats counts
 * this deployment's commands only) and SQLite, uploads tiny images (64×64 JPEG, 10 per request, 4
 * users at once) and then photos (2000×1500 JPEG), and reports per job: Redis commands by name and
 * bytes in and out, CPU by process (api, worker, redis-server), bytes each process wrote to disk
 * (/proc/<pid>/io: the SQLite WAL and the stored files).
 *
 * THUMBS_PROFILE_DIR=<dir> also CPU-profiles the api and the worker during the tiny burst
 * (bench/profile-preload.js; summarise with bench/profile-summary.ts). `--tiny-only` skips the photos.
 */
import IORedis from 'ioredis';
import * as fs from 'node:fs';
import sharp from 'sharp';
import { buildIfStale } from '../test/support/global-setup';
import { ApiClient, type UploadFile } from '../test/support/client';
import { PrivateRedis } from '../test/support/private-redis';
import { TestStack } from '../test/support/stack';
import { cpuMsOf } from './lib/proc';

const PROFILE_DIR = process.env.THUMBS_PROFILE_DIR;

interface Snapshot {
  commands: Map<string, number>;
  netIn: number;
  netOut: number;
  cpu: Record<string, number>;
  written: Record<string, number>;
}

function writtenBytes(pid: number): number {
  const match = /^write_bytes: (\d+)$/m.exec(fs.readFileSync(`/proc/${pid}/io`, 'utf8'));
  return match ? Number(match[1]) : Number.NaN;
}

async function snapshot(redis: IORedis, pids: Record<string, number>): Promise<Snapshot> {
  const commands = new Map<string, number>();
  for (const line of (await redis.info('commandstats')).split('\n')) {
    const match = /^cmdstat_([^:]+):calls=(\d+)/.exec(line.trim());
    if (match) commands.set(match[1], Number(match[2]));
  }
  const stats = await redis.info('stats');
  const field = (name: string) => Number(new RegExp(`^${name}:(\\d+)`, 'm').exec(stats)?.[1] ?? Number.NaN);
  const cpu: Record<string, number> = {};
  const written: Record<string, number> = {};
  for (const [name, pid] of Object.entries(pids)) {
    cpu[name] = cpuMsOf(pid);
    written[name] = writtenBytes(pid);
  }
  return { commands, netIn: field('total_net_input_bytes'), netOut: field('total_net_output_bytes'), cpu, written };
}

async function waitAllFinished(users: ApiClient[], expected: number): Promise<void> {
  for (;;) {
    let finished = 0;
    for (const user of users) {
      for (const status of ['completed', 'failed']) {
        let cursor: string | null = null;
        do {
          const page = await user.list(`?status=${status}&limit=200${cursor ? `&cursor=${cursor}` : ''}`);
          finished += page.body.items.length;
          cursor = page.body.nextCursor;
        } while (cursor);
      }
    }
    if (finished >= expected) return;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

async function measure(
  label: string,
  stack: TestStack,
  redis: IORedis,
  pids: Record<string, number>,
  users: ApiClient[],
  files: UploadFile[],
  perRequest: number,
  profile = false,
) {
  // SIGWINCH starts, then stops and writes, a CPU profile (bench/profile-preload.js).
  const signal = () => profile && PROFILE_DIR && [pids.api, pids.worker].forEach((pid) => process.kill(pid, 'SIGWINCH'));
  signal();
  const before = await snapshot(redis, pids);
  const already = (await Promise.all(users.map((user) => user.list('?limit=200')))).reduce((sum, page) => sum + page.body.items.length, 0);
  await Promise.all(
    users.map(async (user) => {
      for (let i = 0; i < files.length; i += perRequest) await user.uploadOk(files.slice(i, i + perRequest));
    }),
  );
  const jobs = files.length * users.length;
  await waitAllFinished(users, already + jobs);
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const after = await snapshot(redis, pids);
  signal();
  const perJob = (value: number) => Math.round((value / jobs) * 100) / 100;
  const commands = [...after.commands.entries()]
    .map(([name, calls]) => [name, perJob(calls - (before.commands.get(name) ?? 0))] as const)
    .filter(([, calls]) => calls > 0)
    .sort((a, b) => b[1] - a[1]);
  return {
    label,
    jobs,
    redisCommandsPerJob: perJob(commands.reduce((sum, [, calls]) => sum + calls * jobs, 0)),
    redisCommandsByName: Object.fromEntries(commands),
    redisBytesInPerJob: perJob(after.netIn - before.netIn),
    redisBytesOutPerJob: perJob(after.netOut - before.netOut),
    cpuMsPerJob: Object.fromEntries(Object.keys(pids).map((name) => [name, perJob(after.cpu[name] - before.cpu[name])])),
    diskBytesWrittenPerJob: Object.fromEntries(Object.keys(pids).map((name) => [name, perJob(after.written[name] - before.written[name])])),
    stack: stack.baseUrl,
  };
}

async function main(): Promise<void> {
  for (const app of ['api', 'worker']) buildIfStale(app, { quiet: true, announce: (text) => process.stderr.write(`${text}…\n`) });
  const privateRedis = await PrivateRedis.start();
  const profiling: Record<string, string> = PROFILE_DIR
    ? { NODE_OPTIONS: `-r ${require.resolve('./profile-preload.js')}`, THUMBS_PROFILE_DIR: PROFILE_DIR }
    : {};
  const stack = await TestStack.start({ workers: 1, env: { REDIS_URL: privateRedis.url, ...profiling } });
  const redis = new IORedis(privateRedis.url);
  try {
    const redisPid = Number(/^process_id:(\d+)/m.exec(await redis.info('server'))?.[1]);
    const pids = { api: stack.api!.pid, worker: stack.workers[0].pid, redis: redisPid };
    const users = await Promise.all(Array.from({ length: 4 }, () => ApiClient.register(stack.baseUrl)));
    const tiny = await Promise.all(
      Array.from({ length: 100 }, async (_, i) => ({
        name: `tiny-${i}.jpg`,
        data: await sharp({ create: { width: 64, height: 64, channels: 3, background: { r: i, g: 128, b: 255 - i } } })
          .jpeg()
          .toBuffer(),
      })),
    );
    const photo = await sharp({
      create: { width: 2000, height: 1500, channels: 3, background: '#000', noise: { type: 'gaussian', mean: 128, sigma: 40 } },
    })
      .jpeg({ quality: 90 })
      .toBuffer();
    const photos = Array.from({ length: 10 }, (_, i) => ({ name: `photo-${i}.jpg`, data: photo }));
    await measure('warm-up', stack, redis, pids, users, tiny.slice(0, 10), 10);
    const results = [await measure('tiny 64×64 JPEG, 10 per request', stack, redis, pids, users, tiny, 10, true)];
    if (!process.argv.includes('--tiny-only')) {
      results.push(
        await measure(`photo 2000×1500 JPEG (${Math.round(photo.length / 1024)} KiB), 1 per request`, stack, redis, pids, users, photos, 1),
      );
    }
    process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
  } finally {
    redis.disconnect();
    await stack.stop();
    await privateRedis.kill();
  }
}

void main();
