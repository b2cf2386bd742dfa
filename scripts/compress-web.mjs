#!/usr/bin/env node
/**
 * After `ng build web`: writes a brotli (`.br`, quality 11) and a gzip (`.gz`, level 9) copy beside
 * every text asset of dist/apps/web/browser, so the api serves them precompressed (no CPU per
 * request, better ratios than compressing on the fly). A copy that would not be smaller is not
 * written. Images (already compressed) are left alone.
 *
 *   node scripts/compress-web.mjs [dir]
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';

const root = path.resolve(process.argv[2] ?? path.join(import.meta.dirname, '..', 'dist/apps/web/browser'));
const TEXT = /\.(js|mjs|css|html|svg|json|txt|webmanifest|xml|map)$/i;

function* files(dir) {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) yield* files(full);
    else if (TEXT.test(entry.name)) yield full;
  }
}

if (!fs.existsSync(path.join(root, 'index.html'))) {
  console.error(`No web build at ${root} (run ng build web first).`);
  process.exit(1);
}

let raw = 0;
let brotli = 0;
let count = 0;
for (const file of files(root)) {
  const data = fs.readFileSync(file);
  const variants = {
    br: zlib.brotliCompressSync(data, {
      params: {
        [zlib.constants.BROTLI_PARAM_MODE]: zlib.constants.BROTLI_MODE_TEXT,
        [zlib.constants.BROTLI_PARAM_QUALITY]: zlib.constants.BROTLI_MAX_QUALITY,
        [zlib.constants.BROTLI_PARAM_SIZE_HINT]: data.length,
      },
    }),
    gz: zlib.gzipSync(data, { level: zlib.constants.Z_BEST_COMPRESSION }),
  };
  for (const [suffix, compressed] of Object.entries(variants)) {
    const target = `${file}.${suffix}`;
    if (compressed.length < data.length) fs.writeFileSync(target, compressed);
    else fs.rmSync(target, { force: true });
  }
  raw += data.length;
  brotli += Math.min(variants.br.length, data.length);
  count += 1;
}
const kB = (bytes) => `${(bytes / 1000).toFixed(1)} kB`;
console.log(`Compressed ${count} files in ${path.relative(process.cwd(), root) || '.'}: ${kB(raw)} → ${kB(brotli)} with brotli.`);
