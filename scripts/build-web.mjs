#!/usr/bin/env node
/**
 * `npm run build:web`, and the build `npm start` and the integration tests make when the web app's
 * sources changed: `ng build web` with Rollup merging esbuild's chunks (NG_BUILD_OPTIMIZE_CHUNKS:
 * fewer, better-compressed files on the first load), then the brotli and gzip copies the api serves
 * (compress-web.mjs).
 */
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import * as path from 'node:path';

const root = path.join(import.meta.dirname, '..');
const require = createRequire(import.meta.url);
execFileSync(process.execPath, [require.resolve('@angular/cli/bin/ng.js'), 'build', 'web'], {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, NG_BUILD_OPTIMIZE_CHUNKS: '1' },
});
execFileSync(process.execPath, [path.join(root, 'scripts/compress-web.mjs')], { cwd: root, stdio: 'inherit' });
