import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { bundleIsStale } from '../../test/support/global-setup';
import { log } from './util';

export const ROOT = path.resolve(__dirname, '../..');

/**
 * Production bundles of the api and the worker, rebuilt when their sources changed since the last
 * build: the integration tests' rule (bundleIsStale, test/support/global-setup.ts), without the
 * web app, which the bench does not use.
 */
export function buildIfStale(apps: readonly string[] = ['api', 'worker']): void {
  for (const app of apps) {
    if (!bundleIsStale(app)) continue;
    log(`building ${app} (sources changed since the last build)…`);
    execFileSync(process.execPath, [require.resolve('@nestjs/cli/bin/nest.js'), 'build', app], { cwd: ROOT, stdio: ['ignore', 2, 2] });
    // webpack leaves an unchanged bundle untouched (compareBeforeEmit): mark it as built now.
    const time = new Date();
    fs.utimesSync(path.join(ROOT, 'dist/apps', app, 'main.js'), time, time);
  }
}
