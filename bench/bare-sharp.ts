/**
 * The "bare sharp" baseline, in its own process (forked by the bench with the worker's exact
 * environment, so libvips and libuv get the same settings): the worker's own ImageThumbnailer,
 * with the process-wide sharp settings the worker's ProcessorsModule applies at start, run over
 * the same files at the same concurrency. No queue, database, HTTP or storage: only the thumbnail.
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
const size = config.thumbnails.size;

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
        const thumbnail = await thumbnailer.fromFile(files[index], size);
        perFileMs[index] = performance.now() - t0;
        sha256[index] = createHash('sha256').update(thumbnail).digest('hex');
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
