import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '../..');

/**
 * Once per `npm test`: a run id for unique Redis prefixes, a check that Redis answers, and a
 * fresh production build of the api and worker when their sources changed since the last one
 * (the integration suites start those bundles).
 */
export default async function globalSetup(): Promise<void> {
  process.env.THUMBS_TEST_RUN ??= `t${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
  const redisUrl = new URL(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
  await assertReachable(redisUrl.hostname, Number(redisUrl.port || 6379));
  for (const app of ['api', 'worker']) buildIfStale(app);
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

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestMtime(full));
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.spec.ts')) newest = Math.max(newest, fs.statSync(full).mtimeMs);
  }
  return newest;
}

function buildIfStale(app: string): void {
  const bundle = path.join(ROOT, 'dist/apps', app, 'main.js');
  const built = fs.existsSync(bundle) ? fs.statSync(bundle).mtimeMs : 0;
  const sources = Math.max(newestMtime(path.join(ROOT, 'apps', app, 'src')), newestMtime(path.join(ROOT, 'libs')));
  if (built > sources) return;
  process.stdout.write(`\nBuilding ${app} for the integration tests…\n`);
  execFileSync(process.execPath, [require.resolve('@nestjs/cli/bin/nest.js'), 'build', app], { cwd: ROOT, stdio: 'inherit' });
}
