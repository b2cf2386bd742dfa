import sharp from 'sharp';
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parse } from 'yaml';
import { loadConfig } from '@app/core';
import NODE_FLAGS from '../scripts/node-flags.json';
import { ChildApp } from './support/child-app';
import { clearRedisPrefix } from './support/env';
import { ApiClient } from './support/client';
import { media } from './support/media';
import { freePort, waitForHealthy } from './support/stack';

jest.setTimeout(120_000);

const ROOT = path.resolve(__dirname, '..');
const composeText = fs.readFileSync(path.join(ROOT, 'docker-compose.yml'), 'utf8');
const dockerfileText = fs.readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8');
const dockerignore = fs
  .readFileSync(path.join(ROOT, '.dockerignore'), 'utf8')
  .split('\n')
  .map((line) => line.trim())
  .filter((line) => line && !line.startsWith('#'));

interface ComposeService {
  image?: string;
  build?: unknown;
  command?: string[];
  restart?: string;
  environment?: Record<string, string | number | boolean | null>;
  ports?: string[];
  expose?: unknown;
  container_name?: string;
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[]; interval?: string; timeout?: string; retries?: number; start_period?: string };
  volumes?: string[];
  stop_grace_period?: string;
  cpu_shares?: number;
}
interface ComposeFile {
  name?: string;
  services: Record<string, ComposeService>;
  volumes?: Record<string, unknown>;
}

// `merge`: the file shares the app services' settings through YAML anchors and `<<` keys.
const compose = parse(composeText, { merge: true }) as ComposeFile;
const services = compose.services;
const SECRET_NAME = /SECRET|PASSWORD|TOKEN/;

/**
 * The deployment files, checked without a Docker engine: docker-compose.yml's structure and the
 * Dockerfile's stages; then the built api and worker bundles started with exactly the api's and
 * worker's environment from the compose file (only the addresses of MongoDB, Redis and MinIO,
 * the ports and the queue prefix replaced by local ones), as the containers would start them.
 */
describe('deployment: docker-compose.yml', () => {
  it('runs MongoDB, Redis, MinIO, the api and the worker, each with a health check and a restart policy', () => {
    expect(Object.keys(services).sort()).toEqual(['api', 'minio', 'mongo', 'redis', 'worker']);
    for (const [name, service] of Object.entries(services)) {
      expect([name, service.restart]).toEqual([name, expect.stringMatching(/^(unless-stopped|always)$/)]);
      expect([name, service.healthcheck?.test?.[0]]).toEqual([name, expect.stringMatching(/^CMD(-SHELL)?$/)]);
      expect(service.healthcheck!.test.length).toBeGreaterThan(1);
    }
    expect(compose.name).toBe('thumbs');
  });

  it('keeps the data of MongoDB, Redis and MinIO in named volumes', () => {
    const mounts: Record<string, string> = { mongo: '/data/db', redis: '/data', minio: '/data' };
    for (const [name, target] of Object.entries(mounts)) {
      const mount = services[name].volumes?.find((volume) => volume.split(':')[1] === target);
      expect([name, mount]).toEqual([name, expect.any(String)]);
      const source = mount!.split(':')[0];
      expect(source).not.toMatch(/^[./~]/); // a named volume, not a bind mount
      expect(Object.keys(compose.volumes ?? {})).toContain(source);
    }
    expect(services.api.volumes ?? []).toEqual([]);
    expect(services.worker.volumes ?? []).toEqual([]);
  });

  it('configures MongoDB as a replica set of one, Redis with an append-only file, and MinIO with its readiness check', () => {
    expect(services.mongo.image).toMatch(/^mongo:7/);
    expect(services.mongo.command).toEqual(expect.arrayContaining(['--replSet', 'rs0']));
    expect(services.mongo.healthcheck!.test.join(' ')).toMatch(/rs\.initiate\(.*host: 'mongo:27017'/);
    expect(services.redis.image).toMatch(/^redis:7/);
    expect(services.redis.command!.join(' ')).toContain('--appendonly yes');
    expect(services.redis.command!.join(' ')).toContain('--maxmemory-policy noeviction');
    expect(services.minio.image).toMatch(/^minio\/minio:RELEASE\./);
    expect(services.minio.healthcheck!.test).toEqual(['CMD', 'mc', 'ready', 'local']);
  });

  it('starts the api and the worker from the same image, after the services they need are healthy', () => {
    expect(services.api.image).toBe('thumbs:latest');
    expect(services.worker.image).toBe('thumbs:latest');
    // The same node flags as `npm start` and the test stacks (scripts/node-flags.json).
    expect(services.api.command).toEqual(['node', ...NODE_FLAGS, 'dist/apps/api/main.js']);
    expect(services.worker.command).toEqual(['node', ...NODE_FLAGS, 'dist/apps/worker/main.js']);
    for (const app of [services.api, services.worker]) {
      expect(app.depends_on).toEqual({
        mongo: { condition: 'service_healthy' },
        redis: { condition: 'service_healthy' },
        minio: { condition: 'service_healthy' },
      });
    }
  });

  it('publishes the api on port 3000 and nothing of the worker, so `--scale worker=N` works', () => {
    expect(services.api.ports).toEqual(['${THUMBS_PORT:-3000}:3000']);
    expect(interpolate(services.api.ports![0], {})).toBe('3000:3000');
    expect(services.worker.ports).toBeUndefined();
    expect(services.worker.expose).toBeUndefined();
    expect(services.worker.container_name).toBeUndefined();
    expect(services.api.container_name).toBeUndefined();
  });

  it('weighs the worker below the api for CPU, as WORKER_NICE does within one container', () => {
    expect(services.worker.cpu_shares).toBe(512);
    // Docker's default weight.
    expect(services.api.cpu_shares ?? 1024).toBe(1024);
  });

  it('gives the worker longer to stop than SHUTDOWN_GRACE_MS, so running jobs finish or are handed back before SIGKILL', () => {
    const grace = Number(services.worker.environment!.SHUTDOWN_GRACE_MS);
    expect(grace).toBe(8000);
    expect(durationMs(services.worker.stop_grace_period!)).toBeGreaterThan(grace);
  });

  it('points the apps at MongoDB, Redis and the MinIO bucket, in production mode, with JWT_SECRET required', () => {
    for (const app of [services.api, services.worker]) {
      expect(app.environment).toMatchObject({
        NODE_ENV: 'production',
        DATABASE_URL: 'mongodb://mongo:27017/thumbs?replicaSet=rs0',
        REDIS_URL: 'redis://redis:6379',
        STORAGE_URL: 's3://thumbs?endpoint=http://minio:9000&region=us-east-1&forcePathStyle=true',
        JWT_SECRET: '${JWT_SECRET:?set JWT_SECRET}',
      });
    }
    // The app's credentials for MinIO are MinIO's own.
    expect(services.api.environment!.AWS_SECRET_ACCESS_KEY).toBe(services.minio.environment!.MINIO_ROOT_PASSWORD);
    expect(services.api.environment!.AWS_ACCESS_KEY_ID).toBe(services.minio.environment!.MINIO_ROOT_USER);
  });

  it('commits no secret: every secret is required from the environment, without a default', () => {
    for (const [name, service] of Object.entries(services)) {
      for (const [variable, value] of Object.entries(service.environment ?? {})) {
        if (!SECRET_NAME.test(variable)) continue;
        expect([name, variable, value]).toEqual([name, variable, expect.stringMatching(/^\$\{[A-Z_]+(:?\?[^}]*)?\}$/)]);
      }
    }
    expect(() => interpolate(services.api.environment!.JWT_SECRET as string, { MINIO_ROOT_PASSWORD: 'x' })).toThrow('set JWT_SECRET');
    expect(() => interpolate(services.minio.environment!.MINIO_ROOT_PASSWORD as string, {})).toThrow('set MINIO_ROOT_PASSWORD');
    const tracked = execFileSync('git', ['ls-files'], { cwd: ROOT, encoding: 'utf8' }).split('\n');
    expect(tracked.filter((file) => /(^|\/)\.env(\.|$)/.test(file) && !file.endsWith('.env.example'))).toEqual([]);
  });

  it('gives an environment the config loader accepts as it is: MongoDB, S3 on MinIO, production', () => {
    const env = environmentOf('api', {
      JWT_SECRET: randomBytes(48).toString('base64url'),
      MINIO_ROOT_PASSWORD: 'minio-password',
      METRICS_TOKEN: 'metrics-token',
    });
    const config = loadConfig(env, ROOT);
    expect(config.env).toBe('production');
    expect(config.database).toMatchObject({ kind: 'mongo' });
    expect(config.redis.url).toBe('redis://redis:6379');
    expect(config.storage).toMatchObject({
      driver: 's3',
      bucket: 'thumbs',
      endpoint: 'http://minio:9000',
      region: 'us-east-1',
      forcePathStyle: true,
      accessKeyId: 'thumbs',
      secretAccessKey: 'minio-password',
    });
    expect(config.worker.shutdownGraceMs).toBe(8000);
    // Knobs left empty fall back to the documented defaults.
    expect(config.upload.maxFileBytes).toBe(104857600);
    const worker = loadConfig(
      environmentOf('worker', {
        JWT_SECRET: randomBytes(48).toString('base64url'),
        MINIO_ROOT_PASSWORD: 'minio-password',
        METRICS_TOKEN: 'metrics-token',
      }),
      ROOT,
    );
    expect(worker.worker.metricsPort).toBe(9464);
  });

  it('is what `docker compose config` makes of it, where a Compose CLI is installed', () => {
    const cli = composeCli();
    if (!cli) {
      console.log('deploy: no `docker compose` (v2) or `docker-compose` (v1) here; the compose file was checked by this suite only.');
      return;
    }
    const env = { ...process.env, JWT_SECRET: 'j'.repeat(40), MINIO_ROOT_PASSWORD: 'minio-password', METRICS_TOKEN: 'metrics-token' };
    // Compose v1 predates the top-level `name`; it checks the rest.
    const file = cli.version === 1 ? writeTemp(composeText.replace(/^name: .*\n/m, '')) : path.join(ROOT, 'docker-compose.yml');
    const resolved = spawnSync(cli.command[0], [...cli.command.slice(1), '-f', file, '--project-directory', ROOT, 'config'], {
      env,
      encoding: 'utf8',
    });
    expect(resolved.stderr).not.toMatch(/error|invalid/i);
    expect(resolved.status).toBe(0);
    const config = parse(resolved.stdout) as ComposeFile;
    for (const name of ['api', 'worker']) {
      const expected = environmentOf(name, {
        JWT_SECRET: env.JWT_SECRET,
        MINIO_ROOT_PASSWORD: env.MINIO_ROOT_PASSWORD,
        METRICS_TOKEN: env.METRICS_TOKEN,
      });
      expect(normalise(config.services[name].environment)).toEqual(normalise(expected));
    }
    const missing = spawnSync(cli.command[0], [...cli.command.slice(1), '-f', file, '--project-directory', ROOT, 'config'], {
      env: { ...env, JWT_SECRET: '' },
      encoding: 'utf8',
    });
    if (cli.version === 1) fs.rmSync(path.dirname(file), { recursive: true, force: true });
    expect(missing.status).not.toBe(0);
    expect(missing.stderr).toContain('set JWT_SECRET');
  });
});

describe('deployment: Dockerfile', () => {
  const stages = parseDockerfile(dockerfileText);
  const final = stages[stages.length - 1];
  const build = stages.find((stage) => stage.name === 'build')!;

  it('builds in one stage and runs from a second, small one on Debian slim', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    expect(build).toBeDefined();
    expect(dockerfileText).toMatch(/^ARG NODE_IMAGE=node:\d+-bookworm-slim$/m);
    expect(final.from).toBe('${NODE_IMAGE}');
    // No compilers in the image that runs.
    expect(final.runs.join('\n')).not.toMatch(/\b(g\+\+|make|python3|build-essential)\b/);
  });

  it('compiles, builds the api, the worker and the web app, then drops the dev dependencies', () => {
    const steps = build.runs.join('\n');
    expect(steps).toMatch(/apt-get install[^\n]*python3 make g\+\+/);
    const order = ['npm ci', 'npx nest build api', 'npx nest build worker', 'npm run build:web', 'npm prune --omit=dev'].map((step) =>
      steps.indexOf(step),
    );
    expect(order.every((index) => index >= 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    const scripts = (JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
    expect(scripts['build:web']).toBeDefined();
  });

  it('runs as an unprivileged user, under tini, with Debian ffmpeg, the api by default and a health check on /api/health', () => {
    expect(final.instructions.some(([name]) => name === 'USER')).toBe(true);
    const user = final.instructions.filter(([name]) => name === 'USER').pop()![1];
    expect(user).not.toMatch(/^(root|0)(:|$)/);
    expect(final.runs.join('\n')).toMatch(/apt-get install[^\n]*\bffmpeg\b[^\n]*\btini\b/);
    expect(final.value('ENTRYPOINT')).toEqual(['/usr/bin/tini', '--']);
    expect(final.value('CMD')).toEqual(['node', ...NODE_FLAGS, 'dist/apps/api/main.js']);
    expect(final.raw('HEALTHCHECK')).toContain('/api/health');
    expect(final.raw('ENV')).toContain('NODE_ENV=production');
  });

  it("runs glibc's malloc with two arenas and sharp's one libvips thread per image (docs/deploy.md#memory)", () => {
    expect(final.raw('ENV')).toMatch(/\bMALLOC_ARENA_MAX=2\b/);
    expect(final.raw('ENV')).toMatch(/\bVIPS_CONCURRENCY=1\b/);
  });

  it('copies only what exists and what .dockerignore lets into the build context, and sets no secret', () => {
    expect(dockerignore[0]).toBe('*'); // an allow-list
    const allowed = dockerignore.filter((line) => line.startsWith('!')).map((line) => line.slice(1).replace(/\/$/, ''));
    for (const stage of stages) {
      for (const [name, args] of stage.instructions) {
        if (name !== 'COPY' || args.includes('--from=')) continue;
        const sources = args.split(/\s+/).slice(0, -1);
        for (const source of sources) {
          expect([source, fs.existsSync(path.join(ROOT, source))]).toEqual([source, true]);
          expect(allowed).toContain(source);
        }
      }
      for (const [name, args] of stage.instructions) if (name === 'ENV' || name === 'ARG') expect(args).not.toMatch(SECRET_NAME);
    }
    for (const secret of ['.env', 'data', 'node_modules', '.git', 'dist']) expect(allowed).not.toContain(secret);
  });
});

describe('deployment: the built apps with the compose environment (local Redis, SQLite and disk)', () => {
  let dir: string;
  let prefix: string;
  let api: ChildApp;
  let worker: ChildApp;
  let apiPort: number;
  let workerPort: number;
  const secrets = {
    JWT_SECRET: randomBytes(48).toString('base64url'),
    MINIO_ROOT_PASSWORD: randomBytes(18).toString('base64url'),
    METRICS_TOKEN: randomBytes(18).toString('base64url'),
  };

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'thumbs-deploy-'));
    prefix = `${process.env.THUMBS_TEST_RUN ?? 'deploy'}-${process.pid}-deploy`;
    [apiPort, workerPort] = [await freePort(), await freePort()];
    // What MongoDB, Redis and MinIO would be in the containers' network, here.
    const local = {
      DATABASE_URL: `sqlite:${path.join(dir, 'thumbs.db')}`,
      REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
      STORAGE_URL: `file:${path.join(dir, 'files')}`,
      QUEUE_PREFIX: prefix,
    };
    api = new ChildApp('api', { ...environmentOf('api', secrets), ...local, PORT: String(apiPort) });
    worker = new ChildApp('worker', { ...environmentOf('worker', secrets), ...local, WORKER_METRICS_PORT: String(workerPort) });
    await Promise.all([waitForHealthy(`http://127.0.0.1:${apiPort}/api/health`, api, 30_000), worker.waitForLine(/consuming/, 30_000)]);
  });

  afterAll(async () => {
    await Promise.all([api?.stop(), worker?.stop()]);
    await clearRedisPrefix(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', prefix);
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('starts both in production mode, and their health checks (compose and Dockerfile) pass', async () => {
    expect(api.lines.join('\n')).not.toMatch(/"level":(50|60)/);
    expect(healthcheck(services.api.healthcheck!.test, { PORT: String(apiPort) })).toBe(0);
    expect(healthcheck(services.worker.healthcheck!.test, { WORKER_METRICS_PORT: String(workerPort) })).toBe(0);
    const image = dockerHealthcheck();
    expect(healthcheck(image, { PORT: String(apiPort) })).toBe(0);
    expect(healthcheck(image, { HEALTHCHECK_URL: `http://127.0.0.1:${workerPort}/health` })).toBe(0);
    // …and fail when nothing answers.
    expect(healthcheck(image, { PORT: String(await freePort()) })).toBe(1);
  });

  it('takes an upload to a thumbnail', async () => {
    const user = await ApiClient.register(`http://127.0.0.1:${apiPort}`);
    const [job] = await user.uploadOk([await media.jpeg(400, 300)]);
    const done = await user.waitFor(job.id);
    expect(done.status).toBe('completed');
    const thumbnail = await user.fetchBytes(done.thumbnailUrl!);
    expect(thumbnail.status).toBe(200);
    expect(await sharp(thumbnail.data).metadata()).toMatchObject({ format: 'jpeg', width: 128, height: 128 });
  });

  it('serves the web app at / when it has been built (the image always builds it)', async () => {
    const index = path.join(ROOT, 'dist/apps/web/browser/index.html');
    if (!fs.existsSync(index)) {
      console.log('deploy: dist/apps/web/browser is not built here (npm run build:web); the web app at / was not checked.');
      return;
    }
    const response = await fetch(`http://127.0.0.1:${apiPort}/`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/html/);
  });

  it('stops the worker on SIGTERM well within its stop_grace_period', async () => {
    const started = Date.now();
    await worker.stop(durationMs(services.worker.stop_grace_period!));
    expect(Date.now() - started).toBeLessThan(durationMs(services.worker.stop_grace_period!));
    // Nest closes the application, then re-raises the signal: a clean exit by SIGTERM, never SIGKILL.
    expect([
      { code: 0, signal: null },
      { code: null, signal: 'SIGTERM' },
    ]).toContainEqual(await worker.exited);
  });
});

/** A service's `environment` as Compose hands it to the container, given the variables set. */
function environmentOf(service: string, variables: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(services[service].environment ?? {}).map(([name, value]) => [name, interpolate(String(value ?? ''), variables)]),
  );
}

/** Compose's variable interpolation: $$, $NAME, ${NAME}, ${NAME:-default}, ${NAME-default}, ${NAME:?error}, ${NAME?error}. */
function interpolate(value: string, variables: Record<string, string | undefined>): string {
  return value.replace(
    /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g,
    (match: string, braced?: string, operator?: string, argument?: string, bare?: string) => {
      if (match === '$$') return '$';
      const name = (braced ?? bare)!;
      const current = variables[name];
      const unset = operator?.startsWith(':') ? !current : current === undefined;
      if (operator?.endsWith('-')) return unset ? (argument ?? '') : current!;
      if (operator?.endsWith('?')) {
        if (unset) throw new Error(`required variable ${name} is missing a value: ${argument}`);
        return current!;
      }
      return current ?? '';
    },
  );
}

function durationMs(value: string): number {
  const match = /^(\d+)(ms|s|m)$/.exec(value);
  if (!match) throw new Error(`unexpected duration ${value}`);
  return Number(match[1]) * { ms: 1, s: 1000, m: 60_000 }[match[2] as 'ms' | 's' | 'm'];
}

/** Runs a CMD-form health check test here, as Docker would in the container; returns its exit code. */
function healthcheck(test: string[], env: Record<string, string>): number | null {
  expect(test[0]).toBe('CMD');
  const [command, ...args] = test.slice(1);
  const result = spawnSync(command === 'node' ? process.execPath : command, args, {
    env: { PATH: process.env.PATH ?? '', ...env },
    timeout: 10_000,
  });
  return result.status;
}

/** The Dockerfile's HEALTHCHECK as a CMD-form test. */
function dockerHealthcheck(): string[] {
  const raw = parseDockerfile(dockerfileText).pop()!.raw('HEALTHCHECK');
  const json = raw.slice(raw.indexOf('CMD') + 3).trim();
  return ['CMD', ...(JSON.parse(json) as string[])];
}

interface Stage {
  name?: string;
  from: string;
  instructions: [string, string][];
  runs: string[];
  raw(instruction: string): string;
  value(instruction: string): unknown;
}

/** Instructions per stage (continuation lines joined, comments dropped). */
function parseDockerfile(text: string): Stage[] {
  const logical = text
    .split('\n')
    .filter((line) => !line.trim().startsWith('#'))
    .join('\n')
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean);
  const stages: Stage[] = [];
  for (const line of logical) {
    const [, name, args] = /^(\S+)\s+(.*)$/.exec(line) ?? [];
    const instruction = name.toUpperCase();
    if (instruction === 'FROM') {
      const [, from, alias] = /^(\S+)(?:\s+AS\s+(\S+))?/i.exec(args) ?? [];
      const stage: Stage = {
        name: alias,
        from,
        instructions: [],
        runs: [],
        raw: (wanted) =>
          stage.instructions
            .filter(([n]) => n === wanted)
            .map(([, a]) => a)
            .join('\n'),
        value: (wanted) => JSON.parse(stage.instructions.filter(([n]) => n === wanted).pop()![1]) as unknown,
      };
      stages.push(stage);
    } else if (stages.length > 0) {
      const stage = stages[stages.length - 1];
      stage.instructions.push([instruction, args]);
      if (instruction === 'RUN') stage.runs.push(args.replace(/\s+/g, ' '));
    }
  }
  return stages;
}

function composeCli(): { command: string[]; version: 1 | 2 } | undefined {
  if (spawnSync('docker', ['compose', 'version'], { encoding: 'utf8' }).status === 0) return { command: ['docker', 'compose'], version: 2 };
  if (spawnSync('docker-compose', ['version'], { encoding: 'utf8' }).status === 0) return { command: ['docker-compose'], version: 1 };
  return undefined;
}

function writeTemp(content: string): string {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'thumbs-compose-')), 'docker-compose.yml');
  fs.writeFileSync(file, content);
  return file;
}

function normalise(environment: ComposeService['environment']): Record<string, string> {
  return Object.fromEntries(Object.entries(environment ?? {}).map(([name, value]) => [name, String(value ?? '')]));
}
