/**
 * The "bare sharp" baseline, in its own process (forked by the bench with the worker's exact
 * environment, so libvips and libuv get the same settings): the worker's own ImageThumbnailer,
 * with the process-wide sharp settings the worker's ProcessorsModule applies at start, run over
 * the same files at the same concurrency, making the same still renditions a job makes with this
 * configuration (thumbnail, 2×, the WebP preview unless PREVIEW_SIZE=0, ThumbHash). No queue,
 * database, HTTP or storage: only the images. The thumbnail's hash is compared with the service's.
 */
import 'reflect-metadata';
import { createHash } from 'node:crypto';
import { loadConfig } from '@app/core';
import { ImageThumbnailer, ProcessorsModule } from '@app/processors';

interface Request {
  id: number;
  files: string[];
  concurrency: number;
}

const config = loadConfig(process.env);
new ProcessorsModule().onModuleInit();
const thumbnailer = new ImageThumbnailer(config);
const sizes = thumbnailer.sizes(config.thumbnails.size);

async function runBatch({ files, concurrency }: Request): Promise<{ ms: number; perFileMs: number[]; sha256: string[] }> {
  const perFileMs = new Array<number>(files.length);
  const sha256 = new Array<string>(files.length);
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: Math.min(concurrency, files.length) }, async () => {
      while (next < files.length) {
        const index = next++;
        const t0 = performance.now();
        const { thumbnail } = await thumbnailer.renditions(files[index], sizes);
        perFileMs[index] = performance.now() - t0;
        sha256[index] = createHash('sha256').update(thumbnail.data).digest('hex');
      }
    }),
  );
  return { ms: performance.now() - started, perFileMs, sha256 };
}

process.on('message', (message: Request) => {
  runBatch(message).then(
    (result) => process.send!({ id: message.id, ...result }),
    (error: Error) => process.send!({ id: message.id, error: error.message }),
  );
});
process.send!({ ready: true });
