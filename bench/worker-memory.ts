/**
 * Is the worker's RSS growth over photo runs a leak or the allocator? (issue 15)
 * `node -r @swc-node/register bench/worker-memory.ts [--rounds 25] [--minutes 3.5] [--variants default,arena2,jemalloc]`
 *
 * Starts the built api and, one after another, one worker per variant (default glibc malloc;
 * MALLOC_ARENA_MAX=2; jemalloc through LD_PRELOAD when installed), pushes the bench's photo set
 * (16 photos, 12–24 MP, 4 users at once) through each for `--rounds` rounds (or until `--minutes`
 * per variant), and after each round (1.5 s after the last job, as the bench samples) records the
 * worker's RSS split into anonymous and file-backed memory, and V8's heap and external memory from
 * the worker's /metrics. A leak grows the V8 heap or external memory, or keeps RSS growing under
 * every allocator; fragmentation levels off and shrinks or disappears with another allocator.
 *
 * sharp sets libvips' concurrency to 1 on glibc without jemalloc unless MALLOC_ARENA_MAX is set
 * (then it keeps the core count): the variants set VIPS_CONCURRENCY=1 so that only the allocator
 * differs. The worker already calls sharp.cache(false) (ProcessorsModule), so there is no cache
 * variant. Prints the samples as JSON on stdout and a summary on stderr.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { buildIfStale } from '../test/support/global-setup';
import { freePort, TestStack } from '../test/support/stack';
import { benchEnv, register, User } from './lib/context';
import { generatePhotos, sourceOf } from './lib/media';
import { agent, upload, UploadSource } from './lib/multipart';
import { cpuMsOf, MemoryBreakdown, memoryBreakdownOf, MiB, RssSampler, slope } from './lib/proc';
import { StatusFeed } from './lib/status-feed';
import { log, median, now, round, sleep } from './lib/util';

const JEMALLOC = '/usr/lib/x86_64-linux-gnu/libjemalloc.so.2';
const USERS = 4;

function argument(name: string, fallback: number): number {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 ? Number(process.argv[index + 1]) : fallback;
}

/** One round: the worker's memory 1.5 s after its last job, its peak RSS (sampled every 20 ms), the round's wall time and the worker's CPU time in it. */
type Sample = MemoryBreakdown & { ms: number; cpuMs: number; peak: number };

interface Variant {
  /** What --variants names it by. */
  key: string;
  name: string;
  env: Record<string, string>;
}

async function main(): Promise<void> {
  const rounds = argument('rounds', 25);
  const minutes = argument('minutes', 3.5);
  for (const app of ['api', 'worker']) buildIfStale(app, { quiet: true, announce: (text) => log(`${text}…`) });
  const variants: Variant[] = [
    { key: 'default', name: 'glibc malloc (default)', env: {} },
    { key: 'arena2', name: 'glibc, MALLOC_ARENA_MAX=2', env: { MALLOC_ARENA_MAX: '2', VIPS_CONCURRENCY: '1' } },
  ];
  if (fs.existsSync(JEMALLOC))
    variants.push({ key: 'jemalloc', name: 'jemalloc (LD_PRELOAD)', env: { LD_PRELOAD: JEMALLOC, VIPS_CONCURRENCY: '1' } });
  else log(`${JEMALLOC} not found (apt-get install libjemalloc2): no jemalloc variant`);

  const only = process.argv.indexOf('--variants');
  if (only >= 0) {
    const wanted = new Set(process.argv[only + 1].split(','));
    variants.splice(0, variants.length, ...variants.filter((variant) => wanted.has(variant.key)));
  }

  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'thumbs-memory-'));
  // The bench's environment without its allocator settings: each variant brings its own.
  const env = benchEnv();
  delete env.MALLOC_ARENA_MAX;
  delete env.VIPS_CONCURRENCY;
  const stack = await TestStack.start({ workers: 0, env });
  const feed = new StatusFeed();
  const results: { variant: string; env: Record<string, string>; samples: Sample[] }[] = [];
  try {
    log('generating the photo set');
    const photos = await generatePhotos(tmp);
    const sources: UploadSource[] = photos.map((photo) => ({ ...sourceOf(photo), body: fs.readFileSync(photo.path) }));
    const users: User[] = [];
    for (let i = 0; i < USERS; i += 1) {
      users.push(await register(stack.baseUrl, `memory${i}`));
      await feed.connect(stack.baseUrl, users[i].token);
    }
    for (const variant of variants) {
      const port = await freePort();
      const worker = await stack.startWorker({ WORKER_METRICS_PORT: String(port), ...variant.env });
      const metricsUrl = `http://127.0.0.1:${port}/metrics`;
      const samples: Sample[] = [];
      const start = await memoryBreakdownOf(worker.pid, metricsUrl);
      log(`${variant.name}: worker ${worker.pid} started, RSS ${round(start.rss / MiB)} MiB`);
      const deadline = now() + minutes * 60_000;
      for (let round_ = 1; round_ <= rounds && now() < deadline; round_ += 1) {
        // Rounds leave the upload connections idle longer than the api's keep-alive timeout: open new ones
        // rather than race the server closing them (ECONNRESET).
        for (const sockets of Object.values(agent.freeSockets)) sockets?.forEach((socket) => socket.destroy());
        const t0 = now();
        const cpu0 = cpuMsOf(worker.pid);
        const sampler = new RssSampler(worker.pid, 20).start();
        const jobIds = await uploadAll(stack.baseUrl, users, sources);
        await feed.waitCompleted(jobIds);
        const ms = now() - t0;
        const cpuMs = Math.round(cpuMsOf(worker.pid) - cpu0);
        const peak = sampler.stop().peak;
        await sleep(1500);
        const sample = { ...(await memoryBreakdownOf(worker.pid, metricsUrl)), ms: Math.round(ms), cpuMs, peak };
        samples.push(sample);
        log(
          `${variant.name} round ${round_}: ${Math.round(ms)} ms, worker CPU ${cpuMs} ms, peak RSS ${round(peak / MiB)} MiB; RSS ${round(sample.rss / MiB)} (anon ${round(sample.anon / MiB)}, file ${round(sample.file / MiB)}), heap ${round(sample.heapUsed / MiB)}/${round(sample.heapTotal / MiB)}, external ${round(sample.external / MiB)} MiB`,
        );
        // Free the disk (each round stores ≈ 170 MiB of originals); deleting is the api's work.
        await Promise.all(
          jobIds.map((id, index) =>
            fetch(`${stack.baseUrl}/api/jobs/${id}`, {
              method: 'DELETE',
              headers: { authorization: `Bearer ${users[index % USERS].token}` },
            }),
          ),
        );
      }
      await worker.stop();
      stack.workers.splice(stack.workers.indexOf(worker), 1);
      results.push({ variant: variant.name, env: variant.env, samples });
    }
  } finally {
    feed.close();
    await stack.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
    report(results);
  }
}

/** The samples as JSON on stdout, and per variant the trend and the slopes over the second half of the rounds on stderr. */
function report(results: { variant: string; env: Record<string, string>; samples: Sample[] }[]): void {
  process.stdout.write(`${JSON.stringify({ date: new Date().toISOString(), cores: os.availableParallelism(), results }, null, 2)}\n`);
  for (const { variant, samples } of results) {
    // Native: anonymous memory that is neither V8's heap nor external (Buffers): libvips' and malloc's.
    const series = samples.map((sample) => ({ ...sample, native: sample.anon - sample.heapTotal - sample.external }));
    type Key = keyof (typeof series)[number];
    const mib = (key: Key) => series.map((sample) => round(sample[key] / MiB));
    const half = series.slice(Math.floor(series.length / 2));
    const perRound = (key: Key) => round(slope(half.map((sample) => sample[key] / MiB)), 2);
    log(
      `${variant} (${samples.length} rounds): RSS ${mib('rss').join(' → ')} MiB; ` +
        `median of the second half: RSS ${median(half.map((sample) => round(sample.rss / MiB)))}, native ${median(half.map((sample) => round(sample.native / MiB)))} MiB; peak RSS ${Math.max(...mib('peak'))}; ` +
        `second-half slope per round: RSS ${perRound('rss')}, native ${perRound('native')}, heap used ${perRound('heapUsed')}, external ${perRound('external')} MiB; ` +
        `native ${mib('native').join(' → ')} MiB; heap used ${mib('heapUsed')[0]} → ${mib('heapUsed').at(-1)} MiB; ` +
        `worker CPU per round, median ${median(samples.map((sample) => sample.cpuMs))} ms; wall ${median(samples.map((sample) => sample.ms))} ms`,
    );
  }
}

/** Uploads every photo once: photo i by user i mod 4, each user's uploads one after another, users at once. */
async function uploadAll(base: string, users: User[], sources: UploadSource[]): Promise<string[]> {
  const jobIds = new Array<string>(sources.length);
  await Promise.all(
    users.map(async (user, lane) => {
      for (let index = lane; index < sources.length; index += users.length) {
        const result = await upload(base, user.token, sources[index]);
        if (result.status !== 201) throw new Error(`upload failed: ${result.status} ${JSON.stringify(result.body)}`);
        jobIds[index] = result.body.jobs[0].id;
      }
    }),
  );
  return jobIds;
}

void main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
