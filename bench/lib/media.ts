import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import sharp, { type Sharp } from 'sharp';
import { ffmpegBinary } from '../../test/support/ffmpeg';
import type { UploadSource } from './multipart';

const run = promisify(execFile);

export interface Photo {
  path: string;
  name: string;
  type: string;
  format: 'jpeg' | 'png' | 'webp';
  width: number;
  height: number;
  bytes: number;
  orientation?: number;
}

export function sourceOf(photo: Photo): UploadSource {
  return { name: photo.name, type: photo.type, size: photo.bytes, body: { path: photo.path } };
}

/** The photo set: sizes of real cameras and phones (12–24 MP), mostly JPEG, some PNG and WebP. */
const PHOTO_SPECS: { format: Photo['format']; width: number; height: number; orientation?: number }[] = [
  { format: 'jpeg', width: 4000, height: 3000 },
  { format: 'jpeg', width: 4000, height: 3000, orientation: 6 },
  { format: 'jpeg', width: 4000, height: 3000 },
  { format: 'jpeg', width: 4608, height: 3456 },
  { format: 'jpeg', width: 4608, height: 3456, orientation: 6 },
  { format: 'jpeg', width: 4608, height: 3456 },
  { format: 'jpeg', width: 5472, height: 3648 },
  { format: 'jpeg', width: 5472, height: 3648, orientation: 8 },
  { format: 'jpeg', width: 5472, height: 3648 },
  { format: 'jpeg', width: 6000, height: 4000 },
  { format: 'jpeg', width: 6000, height: 4000, orientation: 3 },
  { format: 'jpeg', width: 6000, height: 4000 },
  { format: 'png', width: 4000, height: 3000 },
  { format: 'png', width: 4608, height: 3456 },
  { format: 'webp', width: 4000, height: 3000 },
  { format: 'webp', width: 4608, height: 3456 },
];

const MASTER = { width: 6000, height: 4000 };

/** Smooth random shapes: Gaussian noise at 1/16 of the size, upscaled with a cubic kernel. */
export function smoothNoise(width: number, height: number): Sharp {
  return sharp({
    create: {
      width: Math.ceil(width / 16),
      height: Math.ceil(height / 16),
      channels: 3,
      background: '#808080',
      noise: { type: 'gaussian', mean: 128, sigma: 70 },
    },
  }).resize(width, height, { kernel: 'cubic' });
}

/**
 * A photo-like master picture: smooth random shapes (noise upscaled 16×) with fine grain, so files
 * compress like camera output (≈ 3–8 MB JPEG at q92, tens of MB as PNG) rather than like a flat fill.
 */
async function masterPicture(): Promise<Buffer> {
  const base = await smoothNoise(MASTER.width, MASTER.height).raw().toBuffer();
  const grain = randomBytes(base.length);
  for (let i = 0; i < base.length; i += 1) base[i] = Math.min(255, Math.max(0, base[i] + (grain[i] & 31) - 16));
  return base;
}

export async function generatePhotos(dir: string): Promise<Photo[]> {
  const master = await masterPicture();
  const photos: Photo[] = [];
  for (const [index, spec] of PHOTO_SPECS.entries()) {
    const left = Math.floor((MASTER.width - spec.width) / 2);
    const top = Math.floor((MASTER.height - spec.height) / 2);
    const gain = [0.8 + (index % 3) * 0.15, 0.9 + (index % 2) * 0.1, 1.1 - (index % 4) * 0.1];
    let image = sharp(master, { raw: { ...MASTER, channels: 3 } })
      .extract({ left, top, width: spec.width, height: spec.height })
      .linear(gain, [index * 3, 0, -index * 2]);
    const ext = spec.format === 'jpeg' ? 'jpg' : spec.format;
    if (spec.format === 'jpeg') {
      image = image.jpeg({ quality: 92, chromaSubsampling: '4:2:0' });
      if (spec.orientation) image = image.withMetadata({ orientation: spec.orientation });
    } else if (spec.format === 'png') {
      image = image.png({ compressionLevel: 6 });
    } else {
      image = image.webp({ quality: 85, effort: 0 });
    }
    const file = path.join(dir, `photo-${String(index + 1).padStart(2, '0')}-${spec.width}x${spec.height}.${ext}`);
    await image.toFile(file);
    photos.push({
      path: file,
      name: path.basename(file),
      type: `image/${spec.format}`,
      format: spec.format,
      width: spec.width,
      height: spec.height,
      bytes: fs.statSync(file).size,
      orientation: spec.orientation,
    });
  }
  return photos;
}

export interface Tiny {
  path: string;
  source: UploadSource;
}

/** `count` distinct 64×64 images (half JPEG, a quarter each PNG and WebP), kept in memory and on disk. */
export async function generateTinyImages(dir: string, count: number): Promise<Tiny[]> {
  const images: Tiny[] = [];
  for (let i = 0; i < count; i += 1) {
    const background = { r: (i * 37) % 256, g: (i * 91) % 256, b: (i * 53) % 256 };
    const format = i % 4 === 1 ? 'png' : i % 4 === 3 ? 'webp' : 'jpeg';
    const base = sharp({ create: { width: 64, height: 64, channels: 3, background } }).composite([
      {
        input: {
          create: {
            width: 24,
            height: 24,
            channels: 3,
            background: { r: 255 - background.r, g: 255 - background.g, b: 255 - background.b },
          },
        },
        left: (i * 7) % 40,
        top: (i * 11) % 40,
      },
    ]);
    const data = await (format === 'jpeg' ? base.jpeg({ quality: 90 }) : format === 'png' ? base.png() : base.webp()).toBuffer();
    const name = `tiny-${i}.${format === 'jpeg' ? 'jpg' : format}`;
    const file = path.join(dir, name);
    fs.writeFileSync(file, data);
    images.push({ path: file, source: { name, type: `image/${format}`, size: data.length, body: data } });
  }
  return images;
}

export interface Clip {
  path: string;
  name: string;
  seconds: number;
  bytes: number;
}

export async function ffmpegVersion(): Promise<string> {
  const { stdout } = await run(ffmpegBinary(), ['-hide_banner', '-version']);
  return stdout.split('\n')[0].trim();
}

/**
 * 1080p25 H.264 clips made fast: libx264 ultrafast, a camera-like GOP (-g 250, so at most one
 * keyframe per 10 s). The 10-minute clip is 75 copies of an 8-second segment joined without
 * re-encoding (concat demuxer, -c copy): keyframes every 8 s, so its midpoint (300 s) lies 4 s
 * (100 frames) after a keyframe, much like the 10-second clip's (5 s, 125 frames).
 */
export async function generateClips(dir: string): Promise<{ short: Clip; long: Clip }> {
  const short = await testClip(dir, 'clip-10s-1080p.mp4', '1920x1080', 10);
  const long = await repeatedClip(dir, 'clip-10min-1080p.mp4', '1920x1080', 8, 75);
  return {
    short: { path: short, name: path.basename(short), seconds: await durationOf(short), bytes: fs.statSync(short).size },
    long: { path: long, name: path.basename(long), seconds: await durationOf(long), bytes: fs.statSync(long).size },
  };
}

/** libx264 ultrafast, a camera-like GOP (-g 250: at most one keyframe per 10 s). */
const CLIP_ENCODING = ['-c:v', 'libx264', '-preset', 'ultrafast', '-crf', '30', '-g', '250', '-pix_fmt', 'yuv420p'];

/** A testsrc2 clip of `seconds` at `size` (e.g. "1920x1080"), 25 fps. */
export async function testClip(dir: string, name: string, size: string, seconds: number): Promise<string> {
  const file = path.join(dir, name);
  await run(ffmpegBinary(), [
    ...['-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', `testsrc2=size=${size}:rate=25:duration=${seconds}`],
    ...CLIP_ENCODING,
    file,
  ]);
  return file;
}

/**
 * A long clip made fast: `copies` of one segment joined without re-encoding (concat demuxer,
 * -c copy), so its keyframes are `segmentSeconds` apart and its midpoint lies as far after one as
 * a short clip's does.
 */
export async function repeatedClip(dir: string, name: string, size: string, segmentSeconds: number, copies: number): Promise<string> {
  const segment = await testClip(dir, `segment-${segmentSeconds}s-${size}.mp4`, size, segmentSeconds);
  const list = path.join(dir, `${name}.txt`);
  fs.writeFileSync(list, Array.from({ length: copies }, () => `file '${segment}'`).join('\n'));
  const file = path.join(dir, name);
  await run(ffmpegBinary(), ['-hide_banner', '-loglevel', 'error', '-y', '-f', 'concat', '-safe', '0', '-i', list, '-c', 'copy', file]);
  fs.rmSync(segment);
  fs.rmSync(list);
  return file;
}

export async function durationOf(file: string): Promise<number> {
  const ffprobe = path.join(path.dirname(ffmpegBinary()), 'ffprobe');
  // Loaded only when needed: the installer package throws at load time on platforms it has no binary for.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const probe = fs.existsSync(ffprobe) ? ffprobe : (require('@ffprobe-installer/ffprobe') as { path: string }).path;
  const { stdout } = await run(probe, ['-v', 'error', '-show_entries', 'format=duration', '-of', 'csv=p=0', file]);
  return Number(stdout.trim());
}
