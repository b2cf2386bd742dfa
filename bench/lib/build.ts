import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { log } from './util';

export const ROOT = path.resolve(__dirname, '../..');

const sourceFile = (name: string): boolean => name.endsWith('.ts') && !name.endsWith('.spec.ts');

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestMtime(full));
    else if (sourceFile(entry.name)) newest = Math.max(newest, fs.statSync(full).mtimeMs);
  }
  return newest;
}

/**
 * Production bundles of the api and the worker, rebuilt when their sources changed since the last
 * build: the same rule as the integration tests' global setup (test/support/global-setup.ts),
 * without the web app, which the bench does not use.
 */
export function buildIfStale(apps: readonly string[] = ['api', 'worker']): void {
  for (const app of apps) {
    const bundle = path.join(ROOT, 'dist/apps', app, 'main.js');
    const built = fs.existsSync(bundle) ? fs.statSync(bundle).mtimeMs : 0;
    const sources = Math.max(newestMtime(path.join(ROOT, 'apps', app, 'src')), newestMtime(path.join(ROOT, 'libs')));
    if (built > sources) continue;
    log(`building ${app} (sources changed since the last build)…`);
    execFileSync(process.execPath, [require.resolve('@nestjs/cli/bin/nest.js'), 'build', app], { cwd: ROOT, stdio: ['ignore', 2, 2] });
    // webpack leaves an unchanged bundle untouched (compareBeforeEmit): mark it as built now.
    const time = new Date();
    fs.utimesSync(bundle, time, time);
  }
}
