/**
 * The media section's measuring process (forked with a clean environment, one task at a time, so
 * its CPU time belongs to the task alone): the processors library run directly on files, no queue,
 * database or HTTP. Each message names a task; the reply carries wall time, CPU time (user +
 * system, libvips' and libuv's threads included) and the highest RSS seen while it ran.
 */
import 'reflect-metadata';
import sharp from 'sharp';
import { loadConfig } from '@app/core';
import {
  ImageDecoder,
  ImageThumbnailer,
  makeRenditions,
  MediaTools,
  PREVIEW_WEBP,
  ProcessorsModule,
  THUMBNAIL_JPEG,
  VideoThumbnailer,
  type DecodedPicture,
} from '@app/processors';

export type ProbeTask =
  | { kind: 'thumbnail-alone'; files: string[] }
  | { kind: 'renditions'; files: string[]; previewSize: number }
  | { kind: 'rendition-steps'; files: string[]; previewSize: number }
  | { kind: 'video'; files: string[]; animated: boolean }
  | { kind: 'rss' };

export interface ProbeResult {
  ms: number;
  cpuMs: number;
  peakRssBytes: number;
  rssAfterBytes: number;
  /** rendition-steps: CPU per step, summed over the files. */
  steps?: RenditionSteps;
}

/** CPU (ms) of each step of the renditions, summed over the files of a rendition-steps task. */
export interface RenditionSteps {
  /** Decoding (shrink-on-load) to the size the squares alone need, as with PREVIEW_SIZE=0. */
  decodeForSquares: number;
  /** Decoding (shrink-on-load) to the preview size. */
  decodeForPreview: number;
  /** From the preview-size buffer: the 2× square crop, the 1× square, both JPEGs and the ThumbHash. */
  squares: number;
  /** From the same buffer: the preview, resized and WebP-encoded. */
  previewWebp: number;
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

async function cpuOf<T>(work: () => Promise<T>): Promise<[number, T]> {
  const before = process.cpuUsage();
  const value = await work();
  const used = process.cpuUsage(before);
  return [(used.user + used.system) / 1000, value];
}

/**
 * The renditions of each file one step at a time, with the worker's own decoder and rendition
 * maker: decode for the squares alone, decode for the preview, then from that buffer the squares
 * (with the ThumbHash) and the WebP preview.
 */
async function renditionSteps(files: string[], previewSize: number): Promise<RenditionSteps> {
  const decoder = new ImageDecoder(tools);
  const timeoutSeconds = 300;
  const decode = (file: string, preview: number) =>
    decoder.decodeFile(file, {
      sizes: { thumbnailSize: size, previewSize: preview },
      maxInputPixels: config.thumbnails.maxInputPixels,
      timeoutSeconds,
    });
  const steps: RenditionSteps = { decodeForSquares: 0, decodeForPreview: 0, squares: 0, previewWebp: 0 };
  for (const file of files) {
    steps.decodeForSquares += (await cpuOf(() => decode(file, 0)))[0];
    const [decodeMs, picture] = await cpuOf<DecodedPicture>(() => decode(file, previewSize));
    steps.decodeForPreview += decodeMs;
    steps.squares += (
      await cpuOf(() => makeRenditions(picture, { thumbnailSize: size, previewSize: 0, position: 'centre' }, timeoutSeconds))
    )[0];
    const raw = { width: picture.width, height: picture.height, channels: 3 as const };
    steps.previewWebp += (
      await cpuOf(() =>
        sharp(picture.pixels, { raw })
          .resize(previewSize, previewSize, { fit: 'inside', withoutEnlargement: true })
          .webp(PREVIEW_WEBP)
          .toBuffer(),
      )
    )[0];
  }
  return steps;
}

async function run(task: ProbeTask): Promise<ProbeResult> {
  tools ??= await MediaTools.resolve({ searchPath: process.env.PATH ?? '' });
  let peak = process.memoryUsage.rss();
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 5);
  const cpu = process.cpuUsage();
  const started = performance.now();
  let steps: RenditionSteps | undefined;
  try {
    if (task.kind === 'rendition-steps') steps = await renditionSteps(task.files, task.previewSize);
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
    steps,
  };
}

process.on('message', (message: { id: number; task: ProbeTask }) => {
  run(message.task).then(
    (result) => process.send!({ id: message.id, ...result }),
    (error: Error) => process.send!({ id: message.id, error: error.message }),
  );
});
process.send!({ ready: true });
