import * as path from 'node:path';
import { buildIfStale as buildBundleIfStale, buildWebIfStale } from '../../test/support/global-setup';
import { log } from './util';

export const ROOT = path.resolve(__dirname, '../..');

/**
 * Production bundles of the api and the worker, rebuilt when their sources changed since the last
 * build, by the integration tests' own rule (test/support/global-setup.ts); the web app only for
 * the web section.
 */
export function buildIfStale(apps: readonly string[] = ['api', 'worker']): void {
  for (const app of apps)
    buildBundleIfStale(app, { announce: (text) => log(`${text} (sources changed since the last build)…`), quiet: true });
}

/** The web app's production build (precompressed), rebuilt when its sources changed (for the web section). */
export function buildWebAppIfStale(): void {
  buildWebIfStale();
}
