/**
 * The "bare renditions" video baseline: the worker's own VideoThumbnailer (ffprobe, the chosen
 * frame with HDR tone mapping where needed, thumbnail, 2×, preview, ThumbHash and the animated
 * preview) run on a clip in a plain process, with no queue, database, HTTP or storage: what a
 * video job costs before the service adds anything. Run by the bench with the worker's
 * environment:
 *   node -r @swc-node/register bench/bare-video.ts <clip> <repeats>   → JSON { ms: number[] } on stdout
 */
import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { loadConfig } from '@app/core';
import { ImageThumbnailer, MediaTools, ProcessorsModule, VideoThumbnailer } from '@app/processors';

async function main(): Promise<void> {
  const [file, repeats = '1'] = process.argv.slice(2);
  Logger.overrideLogger(['error']);
  const config = loadConfig(process.env);
  new ProcessorsModule().onModuleInit();
  const images = new ImageThumbnailer(config);
  const video = new VideoThumbnailer(config, await MediaTools.fromConfig(config), images);
  const sizes = images.sizes(config.thumbnails.size);
  const ms: number[] = [];
  for (let round = 0; round < Number(repeats); round += 1) {
    const t0 = performance.now();
    await video.renditions(file, sizes, new AbortController().signal);
    ms.push(performance.now() - t0);
  }
  process.stdout.write(JSON.stringify({ ms }));
}

main().catch((error: Error) => {
  process.stderr.write(`${error.stack ?? error.message}\n`);
  process.exit(1);
});
