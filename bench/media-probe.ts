/**
 * The media section's measuring process (forked with a clean environment, one task at a time, so
 * its CPU time belongs to the task alone): the processors library run directly on files, no queue,
 * database or HTTP. Each message names a task; the reply carries wall time, CPU time (user +
 * system, libvips' and libuv's threads included) and the highest RSS seen while it ran.
 */
import 'reflect-metadata';
import sharp from 'sharp';
import { loadConfig } from '@app/core';
import { ImageThumbnailer, MediaTools, ProcessorsModule, THUMBNAIL_JPEG, VideoThumbnailer } from '@app/processors';

export type ProbeTask =
  | { kind: 'thumbnail-alone'; files: string[] }
  | { kind: 'renditions'; files: string[]; previewSize: number }
  | { kind: 'video'; files: string[]; animated: boolean }
  | { kind: 'rss' };

export interface ProbeResult {
  ms: number;
  cpuMs: number;
  peakRssBytes: number;
  rssAfterBytes: number;
}

const config = loadConfig(process.env);
new ProcessorsModule().onModuleInit();
const size = config.thumbnails.size;
let tools: MediaTools | undefined;

/** The thumbnail as the worker made it before renditions: one sharp pipeline straight to the square JPEG. */
function thumbnailAlone(file: string): Promise<Buffer> {
  return sharp(file, {
    autoOrient: true,
    failOn: 'error',
    limitInputPixels: config.thumbnails.maxInputPixels,
    sequentialRead: true,
    pages: 1,
    page: 0,
  })
    .resize(size, size, { fit: 'cover', position: 'centre', fastShrinkOnLoad: true })
    .flatten({ background: '#ffffff' })
    .toColourspace('srgb')
    .jpeg(THUMBNAIL_JPEG)
    .toBuffer();
}

async function run(task: ProbeTask): Promise<ProbeResult> {
  tools ??= await MediaTools.resolve({ searchPath: process.env.PATH ?? '' });
  let peak = process.memoryUsage.rss();
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 5);
  const cpu = process.cpuUsage();
  const started = performance.now();
  try {
    if (task.kind === 'thumbnail-alone') for (const file of task.files) await thumbnailAlone(file);
    if (task.kind === 'renditions') {
      const images = new ImageThumbnailer(config, tools);
      for (const file of task.files) await images.renditions(file, { ...images.sizes(size), previewSize: task.previewSize });
    }
    if (task.kind === 'video') {
      const images = new ImageThumbnailer(config, tools);
      const videos = new VideoThumbnailer(config, tools, images);
      for (const file of task.files)
        await videos.renditions(file, images.sizes(size), new AbortController().signal, { animated: task.animated });
    }
  } finally {
    clearInterval(timer);
  }
  const ms = performance.now() - started;
  const used = process.cpuUsage(cpu);
  // Child processes (ffmpeg) are not in cpuUsage; the section reports wall time for videos.
  return {
    ms,
    cpuMs: (used.user + used.system) / 1000,
    peakRssBytes: Math.max(peak, process.memoryUsage.rss()),
    rssAfterBytes: process.memoryUsage.rss(),
  };
}

process.on('message', (message: { id: number; task: ProbeTask }) => {
  run(message.task).then(
    (result) => process.send!({ id: message.id, ...result }),
    (error: Error) => process.send!({ id: message.id, error: error.message }),
  );
});
process.send!({ ready: true });
