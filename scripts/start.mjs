#!/usr/bin/env node
// Starts thumbs on one machine: builds what is out of date, makes sure Redis answers (starting a
// private redis-server under ./data when none does and one is installed), then runs the api
// (which serves the web app) and one worker until Ctrl-C, restarting either when it crashes
// (scripts/supervisor.mjs: backoff from 1 s to 30 s, giving up after 5 fast crashes in a row).
import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Supervisor } from './supervisor.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
process.chdir(root);
const require = (await import('node:module')).createRequire(import.meta.url);

const redisUrl = new URL(process.env.REDIS_URL || 'redis://127.0.0.1:6379');
const dataDir = path.resolve(process.env.DATA_DIR || './data');
let stopping = false;

function say(message) {
  process.stdout.write(`[thumbs] ${message}\n`);
}

const supervisor = new Supervisor({
  say,
  onGiveUp: (name, message) => {
    process.stderr.write(`\nthumbs stopped: ${message}.\n`);
    void shutdown(1);
  },
});

function newest(dir, filter) {
  if (!fs.existsSync(dir)) return 0;
  let latest = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) latest = Math.max(latest, newest(full, filter));
    else if (filter(entry.name)) latest = Math.max(latest, fs.statSync(full).mtimeMs);
  }
  return latest;
}

function mtime(file) {
  return fs.existsSync(file) ? fs.statSync(file).mtimeMs : 0;
}

function build() {
  const ts = (name) => name.endsWith('.ts') && !name.endsWith('.spec.ts');
  const libs = newest('libs', ts);
  for (const app of ['api', 'worker']) {
    if (mtime(`dist/apps/${app}/main.js`) > Math.max(libs, newest(`apps/${app}/src`, ts))) continue;
    say(`building ${app}…`);
    execFileSync(process.execPath, [require.resolve('@nestjs/cli/bin/nest.js'), 'build', app], { stdio: 'inherit' });
  }
  if (fs.existsSync('angular.json') && fs.existsSync('apps/web/src')) {
    const web = (name) => !name.endsWith('.spec.ts');
    if (mtime('dist/apps/web/browser/index.html') <= Math.max(newest('apps/web/src', web), newest('libs/shared/src', ts))) {
      say('building the web app…');
      execFileSync(process.execPath, ['scripts/build-web.mjs'], { stdio: 'inherit' });
    }
  }
}

function answers(host, port) {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port, timeout: 1500 });
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (data) => {
      socket.destroy();
      resolve(/PONG|NOAUTH/.test(String(data)));
    });
    const no = () => {
      socket.destroy();
      resolve(false);
    };
    socket.once('error', no);
    socket.once('timeout', no);
  });
}

function onPath(command) {
  return (process.env.PATH || '').split(path.delimiter).some((dir) => {
    try {
      fs.accessSync(path.join(dir, command), fs.constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

async function ensureRedis() {
  const host = redisUrl.hostname || '127.0.0.1';
  const port = Number(redisUrl.port || 6379);
  if (await answers(host, port)) return say(`using Redis at ${redisUrl.host}`);
  const local = ['127.0.0.1', 'localhost', '::1', '[::1]'].includes(host);
  if (!local || !onPath('redis-server')) {
    process.stderr.write(
      `\nthumbs needs Redis and none answers at ${redisUrl.host}.\n` +
        '  Debian/Ubuntu: sudo apt-get install redis-server   macOS: brew install redis\n' +
        '  Docker:        docker run -d -p 6379:6379 redis:7\n' +
        '  Or point REDIS_URL at a Redis server you have.\n',
    );
    process.exit(1);
  }
  const dir = path.join(dataDir, 'redis');
  fs.mkdirSync(dir, { recursive: true });
  say(`no Redis at ${redisUrl.host}: starting redis-server (data in ${path.relative(root, dir)})`);
  const redis = spawn(
    'redis-server',
    [
      '--bind',
      '127.0.0.1',
      '--port',
      String(port),
      '--dir',
      dir,
      '--save',
      '60 1',
      '--appendonly',
      'no',
      '--logfile',
      path.join(dir, 'redis.log'),
    ],
    {
      stdio: 'ignore',
    },
  );
  supervisor.adopt('redis-server', redis, { last: true });
  for (let i = 0; i < 50; i += 1) {
    if (await answers(host, port)) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  process.stderr.write(`redis-server did not start; see ${path.join(dir, 'redis.log')}\n`);
  await shutdown(1);
}

async function shutdown(code = 0) {
  if (stopping) return;
  stopping = true;
  await supervisor.stop();
  process.exit(code);
}

function signalled(signal) {
  if (!stopping) {
    say(`${signal}: stopping everything`);
    return void shutdown(0);
  }
  say(`${signal} again: killing what is left`);
  supervisor.killAll();
}

process.on('SIGINT', () => signalled('SIGINT'));
process.on('SIGTERM', () => signalled('SIGTERM'));

build();
await ensureRedis();
// glibc's malloc with two arenas and sharp's one libvips thread per image, as the Docker image runs
// both (docs/deploy.md#memory); the environment can override either.
const env = { MALLOC_ARENA_MAX: '2', VIPS_CONCURRENCY: '1', ...process.env };
// V8's garbage collector on each process's main thread (docs/deploy.md#garbage-collection); NODE_GC=parallel keeps V8's helper threads.
const nodeFlags = env.NODE_GC === 'parallel' ? [] : JSON.parse(fs.readFileSync(new URL('./node-flags.json', import.meta.url), 'utf8'));
supervisor.add('api', process.execPath, [...nodeFlags, 'dist/apps/api/main.js'], { env });
supervisor.add('worker', process.execPath, [...nodeFlags, 'dist/apps/worker/main.js'], { env });
const port = process.env.PORT || 3000;
say(`starting on http://localhost:${port} (API docs: http://localhost:${port}/api/docs). Ctrl-C stops everything.`);
