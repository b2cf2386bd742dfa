/**
 * `npm run bench`: the service's performance against the real running api and worker on real
 * Redis, SQLite and local disk, next to bare sharp and bare ffmpeg doing the identical work on the
 * identical files in the same run. Prints a table (markdown) and writes JSON to bench-output/.
 *
 *   npm run bench                     everything (≈ 3–4 minutes on 2 cores, plus the first build)
 *   npm run bench -- --only=tiny,data sections by name: images (1, worker half of 4), tiny (2), video (3),
 *                                     two (6), data (api half of 4, and 5), scale (5 alone: 1,000,000 jobs), media (7),
 *                                     web (8: the web app in Chromium); pipeline = the first four; renditions = the
 *                                     renditions part of 7 alone
 *   npm run bench -- --no-video --repeats=1
 *   npm run bench -- --profile        also CPU-profile the api and workers per phase (bench-output/profiles/)
 */
import 'reflect-metadata';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import Database from 'better-sqlite3';
import IORedis from 'ioredis';
import sharp from 'sharp';
import { checkRedis } from '../test/support/global-setup';
import { buildIfStale, buildWebAppIfStale, ROOT } from './lib/build';
import { CONCURRENCY, liveStacks, Row } from './lib/context';
import { ffmpegBinary } from '../test/support/ffmpeg';
import { ffmpegVersion, generateClips, generatePhotos, generateTinyImages } from './lib/media';
import { agent } from './lib/multipart';
import { log, round } from './lib/util';
import { dataSections } from './sections/data';
import { mediaSection } from './sections/media';
import { pipelineSections } from './sections/pipeline';
import { webSection } from './sections/web';

interface Options {
  only: Set<string>;
  video: boolean;
  repeats: number;
  tiny: number;
  profile: boolean;
}

function parseArgs(argv: string[]): Options {
  const options: Options = {
    only: new Set(['images', 'tiny', 'video', 'two', 'data', 'media', 'web']),
    video: true,
    repeats: 5,
    tiny: 1000,
    profile: false,
  };
  for (const arg of argv) {
    const [key, value] = arg.replace(/^--/, '').split('=');
    if (key === 'only')
      options.only = new Set(value.split(',').flatMap((name) => (name === 'pipeline' ? ['images', 'tiny', 'video', 'two'] : [name])));
    else if (key === 'no-video') options.video = false;
    else if (key === 'repeats') options.repeats = Math.max(1, Number(value));
    else if (key === 'tiny') options.tiny = Math.max(10, Number(value));
    else if (key === 'profile') options.profile = true;
    else throw new Error(`unknown option ${arg}`);
  }
  return options;
}

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  const startedAt = new Date();
  const t0 = performance.now();
  process.env.THUMBS_TEST_RUN = `bench${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
  await checkRedis();
  const ffmpeg = ffmpegBinary();
  if (!fs.existsSync(ffmpeg)) throw new Error(`ffmpeg not found at ${ffmpeg}`);
  const loadBefore = os.loadavg();
  buildIfStale();
  if (options.only.has('web')) buildWebAppIfStale();

  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'thumbs-bench-'));
  const cleanup = async (): Promise<void> => {
    for (const stack of [...liveStacks]) {
      liveStacks.delete(stack);
      await stack.stop().catch((error: Error) => log(`could not stop a stack: ${error.message}`));
    }
    agent.destroy();
    fs.rmSync(tmp, { recursive: true, force: true });
  };
  let interrupted = false;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      if (interrupted) return;
      interrupted = true;
      log(`${signal}: cleaning up`);
      void cleanup().finally(() => process.exit(130));
    });
  }

  const rows: Row[] = [];
  const raw: Record<string, unknown> = {};
  try {
    log('generating media');
    const tg = performance.now();
    const photos =
      options.only.has('images') || options.only.has('two') || options.only.has('media') || options.only.has('renditions')
        ? await generatePhotos(tmp)
        : [];
    const tinyDir = path.join(tmp, 'tiny');
    fs.mkdirSync(tinyDir);
    const tiny = await generateTinyImages(tinyDir, options.tiny);
    const clips = options.video && options.only.has('video') ? await generateClips(tmp) : undefined;
    raw.generationSeconds = (performance.now() - tg) / 1000;
    log(`media ready in ${round(raw.generationSeconds as number)} s`);

    const profileDir = options.profile
      ? path.join(ROOT, 'bench-output', 'profiles', startedAt.toISOString().replace(/[:.]/g, '-'))
      : undefined;
    const sections = new Set(['images', 'tiny', 'video', 'two'].filter((name) => options.only.has(name)));
    if (sections.size > 0) await pipelineSections({ tmp, photos, tiny, clips, repeats: options.repeats, sections, profileDir }, rows, raw);
    if (options.only.has('data') || options.only.has('scale'))
      await dataSections(tiny, 200, rows, raw, { memory: options.only.has('data'), scale: true });
    if (options.only.has('media') || options.only.has('renditions'))
      await mediaSection({ tmp, photos, repeats: options.repeats, renditionsOnly: !options.only.has('media') }, rows, raw);
    if (options.only.has('web')) await webSection(tiny, rows, raw);
  } finally {
    await cleanup();
  }

  const seconds = (performance.now() - t0) / 1000;
  const report = {
    date: startedAt.toISOString(),
    runtimeSeconds: round(seconds),
    machine: machineInfo(loadBefore),
    versions: await versions(),
    options: { ...options, only: [...options.only] },
    rows,
    raw,
  };
  const table = markdown(report);
  process.stdout.write(`\n${table}\n`);
  const outDir = path.join(ROOT, 'bench-output');
  fs.mkdirSync(outDir, { recursive: true });
  const stamp = startedAt.toISOString().replace(/[:.]/g, '-');
  fs.writeFileSync(path.join(outDir, `bench-${stamp}.json`), JSON.stringify(report, null, 2));
  fs.writeFileSync(path.join(outDir, 'latest.json'), JSON.stringify(report, null, 2));
  fs.writeFileSync(path.join(outDir, 'latest.md'), `${table}\n`);
  log(`wrote bench-output/bench-${stamp}.json (and latest.json, latest.md); ${round(seconds)} s in all`);
  const failed = rows.filter((row) => row.pass === false);
  if (failed.length > 0) log(`${failed.length} target(s) not met: ${failed.map((row) => `${row.section}: ${row.metric}`).join('; ')}`);
}

function machineInfo(loadBefore: number[]) {
  const cpus = os.cpus();
  return {
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    cores: os.availableParallelism(),
    memoryGiB: round(os.totalmem() / 1024 ** 3, 1),
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    loadAverageBefore: loadBefore.map((value) => round(value, 2)),
    loadAverageAfter: os.loadavg().map((value) => round(value, 2)),
    workerConcurrency: CONCURRENCY,
  };
}

async function versions(): Promise<Record<string, string>> {
  const pkg = (name: string): string =>
    (JSON.parse(fs.readFileSync(path.join(ROOT, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;
  const redis = new IORedis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', { maxRetriesPerRequest: 1 });
  let redisVersion: string;
  try {
    redisVersion = /redis_version:(\S+)/.exec(await redis.info('server'))?.[1] ?? 'unknown';
  } finally {
    redis.disconnect();
  }
  const memory = new Database(':memory:');
  const sqlite = (memory.prepare('select sqlite_version() as v').get() as { v: string }).v;
  memory.close();
  let commit = 'unknown';
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no', '--', 'apps', 'libs'], {
      cwd: ROOT,
      encoding: 'utf8',
    }).trim();
    if (dirty) commit += '+changes';
  } catch {
    // not a git checkout
  }
  return {
    thumbs: commit,
    node: process.version,
    sharp: sharp.versions.sharp ?? pkg('sharp'),
    libvips: sharp.versions.vips,
    ffmpeg: (await ffmpegVersion()).replace(/^ffmpeg version /, '').split(' ')[0],
    redis: redisVersion,
    sqlite,
    'better-sqlite3': pkg('better-sqlite3'),
    bullmq: pkg('bullmq'),
    '@nestjs/core': pkg('@nestjs/core'),
    'socket.io': pkg('socket.io'),
  };
}

function markdown(report: {
  date: string;
  runtimeSeconds: number;
  machine: ReturnType<typeof machineInfo>;
  versions: Record<string, string>;
  rows: Row[];
}): string {
  const { machine, versions: v } = report;
  const lines = [
    `Benchmark of ${report.date.slice(0, 10)} (${report.runtimeSeconds} s): ${machine.cores} cores (${machine.cpuModel}), ${machine.memoryGiB} GiB, ${machine.os}; ` +
      `load average ${machine.loadAverageBefore.join(' / ')} before, ${machine.loadAverageAfter.join(' / ')} after; WORKER_CONCURRENCY ${machine.workerConcurrency}.`,
    `Versions: thumbs ${v.thumbs}, Node ${v.node}, sharp ${v.sharp} (libvips ${v.libvips}), ffmpeg ${v.ffmpeg}, Redis ${v.redis}, SQLite ${v.sqlite}, BullMQ ${v.bullmq}, NestJS ${v['@nestjs/core']}, Socket.IO ${v['socket.io']}.`,
    '',
    '| § | figure | value | target | |',
    '|---|---|---:|---|---|',
    ...[...report.rows]
      .sort((a, b) => Number.parseInt(a.section, 10) - Number.parseInt(b.section, 10))
      .map((row) => {
        const value = `${row.value}${row.unit ? ` ${row.unit}` : ''}`;
        const result = row.pass === undefined ? '' : row.pass ? 'pass' : '**FAIL**';
        return `| ${row.section} | ${row.metric} | ${value} | ${row.target ?? ''} | ${result} |`;
      }),
  ];
  return lines.join('\n');
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    log(`bench failed: ${(error as Error).stack ?? String(error)}`);
    process.exit(1);
  },
);
