import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '../..');

/**
 * Before the integration project: a run id for unique Redis prefixes, a check that Redis answers,
 * and fresh production builds of the api, the worker and the web app when their sources changed
 * since the last build (the integration suites start those bundles and open the web app).
 */
export default async function globalSetup(): Promise<void> {
  await checkRedis();
  for (const app of ['api', 'worker']) buildIfStale(app);
  buildWebIfStale();
}

/** The run id (unique Redis prefixes) and a clear message when Redis is not there. Enough for the unit project. */
export async function checkRedis(): Promise<void> {
  process.env.THUMBS_TEST_RUN ??= `t${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
  const redisUrl = new URL(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
  await assertReachable(redisUrl.hostname, Number(redisUrl.port || 6379));
}

function assertReachable(host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port, timeout: 2000 });
    socket.once('connect', () => {
      socket.end();
      resolve();
    });
    const fail = () => {
      socket.destroy();
      reject(new Error(`The tests need Redis at ${host}:${port} (REDIS_URL). Start one: redis-server --save "" --appendonly no`));
    };
    socket.once('error', fail);
    socket.once('timeout', fail);
  });
}

const sourceFile = (name: string) => name.endsWith('.ts') && !name.endsWith('.spec.ts');

function newestMtime(dir: string, include: (name: string) => boolean = sourceFile): number {
  let newest = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestMtime(full, include));
    else if (include(entry.name)) newest = Math.max(newest, fs.statSync(full).mtimeMs);
  }
  return newest;
}

export function buildWebIfStale(): void {
  const index = path.join(ROOT, 'dist/apps/web/browser/index.html');
  const built = fs.existsSync(index) ? fs.statSync(index).mtimeMs : 0;
  const web = (dir: string) => newestMtime(dir, (name) => !name.endsWith('.spec.ts'));
  const sources = Math.max(
    web(path.join(ROOT, 'apps/web/src')),
    newestMtime(path.join(ROOT, 'libs/shared/src')),
    fs.statSync(path.join(ROOT, 'angular.json')).mtimeMs,
  );
  if (built > sources) return;
  process.stdout.write('\nBuilding the web app for the browser tests…\n');
  execFileSync(process.execPath, [path.join(ROOT, 'scripts/build-web.mjs')], { cwd: ROOT, stdio: 'inherit' });
}

/** Whether dist/apps/<app>/main.js is missing or older than a source file of the app or of libs/. */
function bundleIsStale(app: string): boolean {
  const bundle = path.join(ROOT, 'dist/apps', app, 'main.js');
  const built = fs.existsSync(bundle) ? fs.statSync(bundle).mtimeMs : 0;
  const sources = Math.max(newestMtime(path.join(ROOT, 'apps', app, 'src')), newestMtime(path.join(ROOT, 'libs')));
  return built <= sources;
}

/**
 * Builds dist/apps/<app>/main.js when it is stale, saying so with `announce`; the build's output
 * goes to stderr when `quiet` (the bench keeps stdout for its table). webpack leaves a bundle whose
 * output did not change untouched (compareBeforeEmit), so it is marked as built now: otherwise it
 * would count as stale, and be built again, on every run.
 */
export function buildIfStale(
  app: string,
  { announce = (text: string): void => void process.stdout.write(`\n${text} for the integration tests…\n`), quiet = false } = {},
): void {
  if (!bundleIsStale(app)) return;
  announce(`Building ${app}`);
  // Without webpack's second type check: `npm run typecheck` checks these sources (webpack-no-typecheck.js).
  const config = path.relative(ROOT, path.join(__dirname, 'webpack-no-typecheck.js'));
  execFileSync(process.execPath, [require.resolve('@nestjs/cli/bin/nest.js'), 'build', app, '--webpackPath', config], {
    cwd: ROOT,
    stdio: quiet ? ['ignore', 2, 2] : 'inherit',
  });
  const now = new Date();
  fs.utimesSync(path.join(ROOT, 'dist/apps', app, 'main.js'), now, now);
}
