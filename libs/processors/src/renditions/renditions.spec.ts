import { execFile } from 'node:child_process';
import { chmod, readFile, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { Logger } from '@nestjs/common';
import fc from 'fast-check';
import sharp from 'sharp';
import { thumbHashToRGBA } from 'thumbhash';
import { loadConfig, UnprocessableMediaError } from '@app/core';
import { ffmpegBinary } from '@test/support/ffmpeg';
import { cachedFixture } from '@test/support/fixture-cache';
import { withHeifTransforms } from '@test/support/heif-fixtures';
import {
  type Channels,
  colourDistance,
  coverTarget,
  createTempDir,
  encode,
  quadrants,
  RASTER_FORMATS,
  type RasterFormat,
  type Rgb,
  rejectionOf,
  type TempDir,
  toSharp,
  truncate,
} from '@test/support/image-fixtures';
import { listEncoders, PALETTE, runFfmpeg, segmentsGraph } from '@test/support/video-fixtures';
import { ImageThumbnailer } from '../image/image-thumbnailer';
import { MediaThumbnailer } from '../media-thumbnailer';
import { MediaTools } from '../media-tools/media-tools';
import { VideoThumbnailer } from '../video/video-thumbnailer';
import { ANIMATED_FRAMES, SEQUENTIAL_SAMPLING_SECONDS } from '../video/animated-preview';
import type { RenditionRequest, Renditions } from './renditions';

/**
 * The renditions of every accepted format, on real files made here (sharp, ffmpeg, heif-enc) and
 * kept in a cache keyed by their recipe, so x265/libaom encode them once, not on every run.
 */

const run = promisify(execFile);
// The first run of a machine encodes the fixtures (x265, libaom, libvpx: seconds each); later runs read the cache.
jest.setTimeout(90_000);
const FFMPEG = ffmpegBinary();
const ENCODERS = listEncoders(FFMPEG);
const env = { NODE_ENV: 'test', JWT_SECRET: 'renditions-spec-secret-0123456789abcdef' };
const TL: Rgb = [220, 30, 30];
const TR: Rgb = [30, 180, 30];
const BL: Rgb = [30, 30, 220];
const BR: Rgb = [240, 220, 40];

let files: TempDir;
let tools: MediaTools;
let media: MediaThumbnailer;

beforeAll(async () => {
  Logger.overrideLogger(false);
  files = await createTempDir('thumbs-renditions-');
  tools = await MediaTools.resolve({ searchPath: process.env.PATH ?? '' });
  media = mediaFor(tools);
}, 60_000);
afterAll(async () => {
  Logger.overrideLogger(['log', 'error', 'warn', 'debug', 'verbose', 'fatal']);
  await files.remove();
});

function mediaFor(mediaTools: MediaTools, overrides: Record<string, string> = {}): MediaThumbnailer {
  const cfg = loadConfig({ ...env, ...overrides });
  const images = new ImageThumbnailer(cfg, mediaTools);
  return new MediaThumbnailer(images, new VideoThumbnailer(cfg, mediaTools, images));
}

function request(file: string, fileType: 'image' | 'video', overrides: Partial<RenditionRequest> = {}): RenditionRequest {
  return { file, fileType, thumbnailSize: 128, previewSize: 1440, position: 'centre', signal: new AbortController().signal, ...overrides };
}

async function render(name: string, data: Buffer, fileType: 'image' | 'video', overrides: Partial<RenditionRequest> = {}) {
  return media.renditions(request(await files.write(name, data), fileType, overrides));
}

/** Mean colour of each quadrant's inner half. */
async function quadrantMeans(image: Buffer): Promise<Rgb[]> {
  const { data, info } = await sharp(image).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const mean = (x0: number, y0: number): Rgb => {
    const sums = [0, 0, 0];
    let count = 0;
    for (let y = Math.floor(y0 + info.height / 8); y < y0 + (3 * info.height) / 8; y++) {
      for (let x = Math.floor(x0 + info.width / 8); x < x0 + (3 * info.width) / 8; x++) {
        for (let c = 0; c < 3; c++) sums[c] += data[(y * info.width + x) * 3 + c];
        count++;
      }
    }
    return sums.map((sum) => Math.round(sum / count)) as unknown as Rgb;
  };
  return [mean(0, 0), mean(info.width / 2, 0), mean(0, info.height / 2), mean(info.width / 2, info.height / 2)];
}

function expectQuadrants(actual: Rgb[], tolerance = 40): void {
  [TL, TR, BL, BR].forEach((expected, i) => expect(colourDistance(actual[i], expected)).toBeLessThanOrEqual(tolerance));
}

/** Checks every rendition's shape against the contract for an original of `width`×`height`. */
async function expectShapes(result: Renditions, width: number, height: number, edge: number, previewSize: number): Promise<void> {
  expect([result.width, result.height]).toEqual([width, height]);
  for (const [rendition, side] of [
    [result.thumbnail, edge],
    [result.thumbnail2x, 2 * edge],
  ] as const) {
    expect(await sharp(rendition.data).metadata()).toMatchObject({ format: 'jpeg', width: side, height: side, space: 'srgb', channels: 3 });
    expect(rendition).toMatchObject({ contentType: 'image/jpeg', width: side, height: side });
  }
  if (previewSize === 0) {
    expect(result.preview).toBeNull();
  } else {
    const long = Math.max(width, height);
    const scale = Math.min(1, previewSize / long);
    const metadata = await sharp(result.preview!.data).metadata();
    expect(metadata.format).toBe('webp');
    expect(Math.max(metadata.width, metadata.height)).toBe(Math.round(long * scale));
    expect(Math.abs(metadata.width - width * scale)).toBeLessThanOrEqual(1);
    expect(Math.abs(metadata.height - height * scale)).toBeLessThanOrEqual(1);
  }
  const hash = thumbHashToRGBA(Buffer.from(result.thumbhash, 'base64'));
  expect(hash.w).toBeGreaterThan(0);
  expect(result.thumbhash.length).toBeLessThan(60);
}

describe('Properties 16 and 17 over every rendition (images)', () => {
  it('thumbnail T², thumbnail2x (2T)², preview inside PREVIEW_SIZE and never upscaled, original size, a ThumbHash', async () => {
    const dimensions = fc
      .tuple(fc.integer({ min: 1, max: 2400 }), fc.integer({ min: 1, max: 2400 }))
      .filter(([w, h]) => w * h <= 1_500_000);
    await fc.assert(
      fc.asyncProperty(
        dimensions,
        fc.constantFrom<RasterFormat>(...RASTER_FORMATS),
        fc.constantFrom<Channels>(1, 2, 3, 4),
        fc.oneof(fc.constant(128), fc.integer({ min: 16, max: 300 })),
        fc.oneof(fc.constant(1440), fc.constant(0), fc.integer({ min: 64, max: 2048 })),
        async ([width, height], format, channels, edge, previewSize) => {
          const result = await render(`p.${format}`, await encode(coverTarget(width, height, channels), format), 'image', {
            thumbnailSize: edge,
            previewSize,
          });
          await expectShapes(result, width, height, edge, previewSize);
          expect(result).toMatchObject({ animatedPreview: null, durationMs: null, decoder: 'sharp' });
        },
      ),
      { numRuns: 40 },
    );
  }, 240_000);

  it('crops the squares at the position asked for: attention finds the one busy region of a flat picture', async () => {
    const flat = toSharp(
      quadrants(1200, 400, [
        [200, 200, 200],
        [200, 200, 200],
        [200, 200, 200],
        [200, 200, 200],
      ]),
    );
    const busy = await sharp({
      create: { width: 300, height: 300, channels: 3, background: '#000000', noise: { type: 'gaussian', mean: 60, sigma: 60 } },
    })
      .png()
      .toBuffer();
    const picture = await flat
      .composite([{ input: busy, left: 880, top: 50 }])
      .png()
      .toBuffer();
    const centre = await render('busy.png', picture, 'image', { position: 'centre' });
    const attention = await render('busy.png', picture, 'image', { position: 'attention' });
    const stdev = async (jpeg: Buffer) => (await sharp(jpeg).stats()).channels[0].stdev;
    expect(await stdev(centre.thumbnail2x.data)).toBeLessThan(5);
    expect(await stdev(attention.thumbnail2x.data)).toBeGreaterThan(20);
  });
});

// ── HEIC ──────────────────────────────────────────────────────────────────────────────────────

/** heif-enc on PNG inputs (each a RawImage-like sharp pipeline), cached by recipe. */
async function heic(recipe: string, inputs: Buffer[], extra: string[] = []): Promise<Buffer> {
  return cachedFixture(`heif-enc v1 ${recipe} ${extra.join(' ')}`, async () => {
    const names = await Promise.all(inputs.map((png, i) => files.write(`heif-in-${i}.png`, png)));
    const out = path.join(files.path, `out-${Date.now()}.heic`);
    await run('heif-enc', ['-q', '90', ...extra, ...names, '-o', out]);
    return readFile(out);
  });
}

/** Offsets of every box of `type` in an ISO BMFF file (a flat scan: enough for small fixtures). */
function boxOffsets(data: Buffer, type: string): number[] {
  const found: number[] = [];
  for (let at = data.indexOf(type); at >= 4; at = data.indexOf(type, at + 4)) found.push(at - 4);
  return found;
}

const quadrantsPng = (width: number, height: number) =>
  toSharp(quadrants(width, height, [TL, TR, BL, BR]))
    .png()
    .toBuffer();

describe('HEIC/HEIF (libheif-js, wasm)', () => {
  it('decodes an HEVC-coded HEIC (which sharp cannot) into every rendition, upright, with its size', async () => {
    const data = await heic('quadrants 320x200', [await quadrantsPng(320, 200)]);
    const result = await render('photo.heic', data, 'image');
    await expectShapes(result, 320, 200, 128, 1440);
    expect(result.decoder).toBe('heic-wasm');
    expectQuadrants(await quadrantMeans(result.preview!.data));
  });

  it('irot (a quarter turn anti-clockwise) is applied: a 320×200 photo is shown 200×320, its corners moved', async () => {
    const data = withHeifTransforms(await heic('quadrants 320x200', [await quadrantsPng(320, 200)]), { rotateCcw: 1 });
    const result = await render('turned.heic', data, 'image');
    expect([result.width, result.height]).toEqual([200, 320]);
    const [tl, tr, bl, br] = await quadrantMeans(result.preview!.data);
    // Turned 90° anti-clockwise: top-right comes to the top-left, top-left to the bottom-left.
    [tl, tr, bl, br].forEach((rgb, i) => expect(colourDistance(rgb, [TR, BR, TL, BL][i])).toBeLessThanOrEqual(40));
  });

  it.each([0, 1] as const)('imir (axis %i) with irot is applied as libheif applies it to AVIF in sharp', async (mirrorAxis) => {
    const png = await quadrantsPng(320, 200);
    const transforms = { rotateCcw: 3, mirrorAxis } as const;
    const data = withHeifTransforms(await heic('quadrants 320x200', [png]), transforms);
    const avif = withHeifTransforms(await heic('quadrants 320x200 avif', [png], ['-A']), transforms);
    const reference = await quadrantMeans(await sharp(avif).png().toBuffer());
    const result = await render('mirrored.heic', data, 'image');
    expect([result.width, result.height]).toEqual([200, 320]);
    (await quadrantMeans(result.preview!.data)).forEach((rgb, i) => expect(colourDistance(rgb, reference[i])).toBeLessThanOrEqual(40));
    // …and the mirror did something: the reference differs from the rotation alone.
    const turned = await quadrantMeans(
      await sharp(withHeifTransforms(await heic('quadrants 320x200 avif', [png], ['-A']), { rotateCcw: 3 }))
        .png()
        .toBuffer(),
    );
    expect(Math.max(...turned.map((rgb, i) => colourDistance(rgb, reference[i])))).toBeGreaterThan(100);
  });

  it('a file of several images gives its primary image, not the first', async () => {
    const red = await toSharp(quadrants(64, 32, [TL, TL, TL, TL]))
      .png()
      .toBuffer();
    const green = await toSharp(quadrants(48, 48, [TR, TR, TR, TR]))
      .png()
      .toBuffer();
    const data = Buffer.from(await heic('two images red 64x32 green 48x48', [red, green]));
    // heif-enc makes the first image primary; point pitm at the second one.
    const pitm = boxOffsets(data, 'pitm')[0];
    let patched: Buffer | undefined;
    for (let id = 1; id <= 8 && !patched; id++) {
      const candidate = Buffer.from(data);
      candidate.writeUInt16BE(id, pitm + 12);
      const metadata = await sharp(candidate)
        .metadata()
        .catch(() => undefined);
      if (metadata?.width === 48 && metadata.height === 48) patched = candidate;
    }
    expect(patched).toBeDefined();
    const result = await render('two.heic', patched!, 'image');
    expect([result.width, result.height]).toEqual([48, 48]);
    expect(colourDistance((await quadrantMeans(result.thumbnail.data))[0], TR)).toBeLessThanOrEqual(30);
  });

  it('a truncated HEIC fails with a message and a reason', async () => {
    const data = await heic('quadrants 320x200', [await quadrantsPng(320, 200)]);
    for (const cut of [0.5, 0.9]) {
      const error = await rejectionOf(render('cut.heic', truncate(data, cut), 'image'));
      expect(error).toBeInstanceOf(UnprocessableMediaError);
      expect(['truncated', 'undecodable']).toContain((error as UnprocessableMediaError).reason);
      expect((error as Error).message).toMatch(/image/i);
    }
  });

  it('aborting (JOB_TIMEOUT_MS) stops a decode in its thread and rejects with the reason', async () => {
    const data = await heic('noise 1600x1200', [
      await sharp({
        create: { width: 1600, height: 1200, channels: 3, background: '#000000', noise: { type: 'gaussian', mean: 128, sigma: 60 } },
      })
        .png()
        .toBuffer(),
    ]);
    const stop = new AbortController();
    const reason = new Error('stopped by the test');
    const pending = media.renditions(request(await files.write('big.heic', data), 'image', { signal: stop.signal }));
    setTimeout(() => stop.abort(reason), 20);
    await expect(pending).rejects.toBe(reason);
    // The next decode works: nothing was left half-done.
    expect((await render('after.heic', data, 'image')).width).toBe(1600);
  });

  it('a HEIC whose header claims 60000×60000 is refused from the header, before decoding', async () => {
    const data = Buffer.from(await heic('quadrants 320x200', [await quadrantsPng(320, 200)]));
    for (const at of boxOffsets(data, 'ispe')) {
      data.writeUInt32BE(60000, at + 12);
      data.writeUInt32BE(60000, at + 16);
    }
    const error = await rejectionOf(render('bomb.heic', data, 'image'));
    expect(error).toBeInstanceOf(UnprocessableMediaError);
    expect((error as UnprocessableMediaError).reason).toMatch(/too_many_pixels|undecodable/);
  });

  it('a HEIC whose header claims 64×48 for a 320×200 picture is damaged (said without libheif internals); over MAX_INPUT_PIXELS by its real size, too many pixels', async () => {
    const data = Buffer.from(await heic('quadrants 320x200', [await quadrantsPng(320, 200)]));
    for (const at of boxOffsets(data, 'ispe')) {
      data.writeUInt32BE(64, at + 12);
      data.writeUInt32BE(48, at + 16);
    }
    expect(await sharp(data).metadata()).toMatchObject({ width: 64, height: 48 });
    expect(await rejectionOf(render('liar.heic', data, 'image'))).toMatchObject({
      reason: 'undecodable',
      message:
        'The HEIC image is damaged: its picture (320×200) is larger than its header says. Export it again from the phone or photo app and upload it again.',
    });
    // 64×48 is within 10,000 pixels; 320×200 is not.
    const small = mediaFor(tools, { MAX_INPUT_PIXELS: '10000' });
    expect(await rejectionOf(small.renditions(request(await files.write('liar.heic', data), 'image')))).toMatchObject({
      reason: 'too_many_pixels',
      message: "The image is 320×200 pixels (0.06 MP), above this service's limit of 0.01 MP.",
    });
  });
});

// ── AVIF, TIFF, BMP ───────────────────────────────────────────────────────────────────────────

describe('AVIF, TIFF and BMP', () => {
  it('AVIF through sharp', async () => {
    const avif = await cachedFixture('sharp avif quadrants 300x200 q80', async () =>
      toSharp(quadrants(300, 200, [TL, TR, BL, BR]))
        .avif({ quality: 80 })
        .toBuffer(),
    );
    const result = await render('p.avif', avif, 'image');
    await expectShapes(result, 300, 200, 128, 1440);
    expectQuadrants(await quadrantMeans(result.preview!.data));
    expect((await rejectionOf(render('cut.avif', truncate(avif, 0.5), 'image'))) as UnprocessableMediaError).toBeInstanceOf(
      UnprocessableMediaError,
    );
  });

  it('an animated AVIF (major brand avis) gives its primary image, the first frame; its header limits still apply', async () => {
    if (!ENCODERS.has('libaom-av1')) return;
    // Three frames at 10 fps: top-left colour, then the others (ffmpeg's AVIF muxer stores the first as the primary image).
    const graph = [TL, TR, BL].map(
      ([r, g, b], i) => `color=c=0x${[r, g, b].map((v) => v.toString(16).padStart(2, '0')).join('')}:s=64x48:r=10:d=0.1[f${i}]`,
    );
    const animated = await video('avis 3 frames', 'animated.avif', [
      ...['-f', 'lavfi', '-i', `${graph.join(';')};[f0][f1][f2]concat=n=3`, '-c:v', 'libaom-av1', '-cpu-used', '8', '-crf', '20'],
      ...['-pix_fmt', 'yuv420p', '-f', 'avif'],
    ]);
    expect(animated.toString('latin1', 4, 12)).toBe('ftypavis');
    const result = await render('animated.avif', animated, 'image');
    await expectShapes(result, 64, 48, 128, 1440);
    expect(result.decoder).toBe('sharp');
    expect(colourDistance((await quadrantMeans(result.thumbnail.data))[3], TL)).toBeLessThanOrEqual(30);

    // The primary image's ispe box (the first one) claiming 60000×60000: refused from the header.
    const bomb = Buffer.from(animated);
    const ispe = boxOffsets(bomb, 'ispe')[0];
    bomb.writeUInt32BE(60000, ispe + 12);
    bomb.writeUInt32BE(60000, ispe + 16);
    const refused = await rejectionOf(render('bomb.avif', bomb, 'image'));
    expect(refused).toMatchObject({ reason: 'too_many_pixels', message: expect.stringMatching(/^The image is 60000×60000 pixels/) });

    // A sequence without its still item (the meta box renamed away): said plainly, not "damaged".
    const sequenceOnly = Buffer.from(animated);
    sequenceOnly.write('free', boxOffsets(sequenceOnly, 'meta')[0] + 4, 'latin1');
    const noStill = await rejectionOf(render('sequence.avif', sequenceOnly, 'image'));
    expect(noStill).toBeInstanceOf(UnprocessableMediaError);
    expect(noStill).toMatchObject({
      reason: 'undecodable',
      message:
        'The image is an animated AVIF without a still picture (a primary image) to make a thumbnail from. Save its first frame as an image and upload that.',
    });
  });

  it('TIFF: CMYK and 16-bit to sRGB, the first page of a multi-page file', async () => {
    const rgb = toSharp(quadrants(200, 160, [TL, TR, BL, BR]));
    const cmyk = await rgb.clone().toColourspace('cmyk').tiff().toBuffer();
    expect((await sharp(cmyk).metadata()).space).toBe('cmyk');
    // Saturated green and blue lie outside CMYK's gamut: compare with libvips' own CMYK → sRGB.
    const reference = await quadrantMeans(await sharp(cmyk).toColourspace('srgb').png().toBuffer());
    const fromCmyk = await quadrantMeans((await render('cmyk.tif', cmyk, 'image')).thumbnail2x.data);
    fromCmyk.forEach((rgb, i) => expect(colourDistance(rgb, reference[i])).toBeLessThanOrEqual(12));
    // sharp writes 8-bit TIFF only; ffmpeg's encoder writes 16 bits per sample (rgb48).
    const deep = await cachedFixture('ffmpeg tiff rgb48le quadrants 200x160', async () => {
      const png = await files.write('q16.png', await quadrantsPng(200, 160));
      const out = path.join(files.path, 'q16.tif');
      await runFfmpeg(FFMPEG, ['-i', png, '-frames:v', '1', '-pix_fmt', 'rgb48le', '-c:v', 'tiff', out]);
      return readFile(out);
    });
    expect((await sharp(deep).metadata()).bitsPerSample).toBe(16);
    expectQuadrants(await quadrantMeans((await render('deep.tif', deep, 'image')).thumbnail2x.data));
    const pages = await Promise.all(
      [TL, TR].map((colour) =>
        toSharp(quadrants(64, 64, [colour, colour, colour, colour]))
          .png()
          .toBuffer(),
      ),
    );
    const multi = await sharp(pages, { join: { animated: true } })
      .tiff()
      .toBuffer();
    expect((await sharp(multi).metadata()).pages).toBe(2);
    const first = await render('pages.tiff', multi, 'image');
    expect([first.width, first.height]).toEqual([64, 64]);
    expect(colourDistance((await quadrantMeans(first.thumbnail.data))[3], TL)).toBeLessThanOrEqual(30);
  });

  it('BMP (no loader in sharp) through ffmpeg; truncated and bomb BMPs fail cleanly', async () => {
    const bmp = await cachedFixture('ffmpeg bmp quadrants 180x120', async () => {
      const png = await files.write('q.png', await quadrantsPng(180, 120));
      const out = path.join(files.path, 'q.bmp');
      await runFfmpeg(FFMPEG, ['-i', png, '-frames:v', '1', '-c:v', 'bmp', '-pix_fmt', 'bgr24', out]);
      return readFile(out);
    });
    await expect(sharp(bmp).metadata()).rejects.toThrow(/unsupported image format/);
    const result = await render('p.bmp', bmp, 'image');
    await expectShapes(result, 180, 120, 128, 1440);
    expect(result.decoder).toBe('ffmpeg-bmp');
    expectQuadrants(await quadrantMeans(result.preview!.data));

    const cut = await rejectionOf(render('cut.bmp', truncate(bmp, 0.3), 'image'));
    expect(cut).toBeInstanceOf(UnprocessableMediaError);
    expect((cut as Error).message).toMatch(/BMP image/);
    const bomb = Buffer.from(bmp);
    bomb.writeInt32LE(60000, 18);
    bomb.writeInt32LE(60000, 22);
    const refused = await rejectionOf(render('bomb.bmp', bomb, 'image'));
    expect((refused as UnprocessableMediaError).reason).toBe('too_many_pixels');
  });
});

// ── Videos ────────────────────────────────────────────────────────────────────────────────────

const QUADRANT_GRAPH =
  'color=c=0xDC1E1E:s=64x48:d=2[a];color=c=0x1EB41E:s=64x48:d=2[b];color=c=0x1E1EDC:s=64x48:d=2[c];color=c=0xF0DC28:s=64x48:d=2[d];[a][b]hstack[t];[c][d]hstack[u];[t][u]vstack,fps=10';

/** The colour each frame of an animated WebP shows (of `colours`): the brightest quarter of its pixels, without the grid's black lines. */
async function animatedColours(webp: Buffer, colours: readonly (keyof typeof PALETTE)[]): Promise<string[]> {
  const { pages = 1 } = await sharp(webp, { pages: -1 }).metadata();
  const seen: string[] = [];
  for (let page = 0; page < pages; page++) {
    const { data, info } = await sharp(webp, { page }).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    const pixels = Array.from({ length: info.width * info.height }, (_, k) => [...data.subarray(k * 3, k * 3 + 3)]);
    const bright = pixels.sort((a, b) => b[0] + b[1] + b[2] - (a[0] + a[1] + a[2])).slice(0, pixels.length / 4);
    const mean = [0, 1, 2].map((c) => bright.reduce((sum, rgb) => sum + rgb[c], 0) / bright.length);
    seen.push(
      colours.reduce((best, name) => (colourDistance(PALETTE[name], mean) < colourDistance(PALETTE[best], mean) ? name : best), colours[0]),
    );
  }
  return seen;
}

async function video(recipe: string, name: string, args: string[]): Promise<Buffer> {
  return cachedFixture(`ffmpeg ${FFMPEG} ${recipe} ${args.join(' ')}`, async () => {
    const out = path.join(files.path, `${Date.now()}-${name}`);
    await runFfmpeg(FFMPEG, [...args, out]);
    return readFile(out);
  });
}

const sdrArgs = ['-f', 'lavfi', '-i', QUADRANT_GRAPH, '-pix_fmt', 'yuv420p'];

describe('videos: new containers, HDR, alpha, animated preview', () => {
  const containers: [string, string[], string][] = [
    ['clip.mkv', [...sdrArgs, '-c:v', 'libx264', '-f', 'matroska'], 'libx264'],
    ['clip.mts', [...sdrArgs, '-c:v', 'libx264', '-g', '5', '-f', 'mpegts'], 'libx264'],
    ['clip.m2ts', [...sdrArgs, '-c:v', 'libx264', '-g', '5', '-mpegts_m2ts_mode', '1', '-f', 'mpegts'], 'libx264'],
    [
      'clip.3gp',
      [
        '-f',
        'lavfi',
        '-i',
        QUADRANT_GRAPH.replace(/64x48/g, '88x72'),
        '-vf',
        'scale=176:144',
        '-pix_fmt',
        'yuv420p',
        '-c:v',
        'h263',
        '-f',
        '3gp',
      ],
      'h263',
    ],
  ];
  it.each(containers)(
    '%s gives every rendition, its duration and an animated preview (Property 22 over renditions)',
    async (name, args, encoder) => {
      if (!ENCODERS.has(encoder)) return;
      const result = await render(name, await video('v1', name, args), 'video');
      const [width, height] = name === 'clip.3gp' ? [176, 144] : [128, 96];
      await expectShapes(result, width, height, 128, 1440);
      expect(result.durationMs).toBeGreaterThan(1500);
      expect(result.durationMs).toBeLessThan(2500);
      expectQuadrants(await quadrantMeans(result.preview!.data));
      // The clip is still, and libwebp merges identical frames: one 256² frame (the segments test counts frames).
      const animated = await sharp(result.animatedPreview!.data, { pages: -1 }).metadata();
      expect(animated).toMatchObject({ format: 'webp', width: 256 });
      expect(animated.height).toBe(256 * (animated.pages ?? 1));
      expect(result.animatedPreview).toMatchObject({ contentType: 'image/webp', width: 256, height: 256 });
    },
  );

  // 8 s: one decoding pass for all frames (one keyframe in all, as short camera clips have); 20 s:
  // an exact seek per frame; 32 s: the keyframe before each sample (one input each in one run).
  it.each([
    [10, 250],
    [25, 5],
    [40, 5],
  ])('an animated preview shows frames from across the clip, in order (%d frames a colour, keyframe every %d)', async (frames, gop) => {
    const colours = ['red', 'lime', 'blue', 'yellow', 'cyan', 'magenta', 'white', 'orange'] as const;
    expect(colours.length * frames < SEQUENTIAL_SAMPLING_SECONDS * 10).toBe(frames === 10);
    const { graph, output } = segmentsGraph(
      colours.map((colour) => ({ colour, frames })),
      64,
      48,
      10,
    );
    const data = await video(`segments ${frames}`, `seg-${frames}.mp4`, [
      '-filter_complex',
      graph,
      '-map',
      output,
      '-c:v',
      'libx264',
      '-g',
      String(gop),
    ]);
    const result = await render(`seg-${frames}.mp4`, data, 'video', { thumbnailSize: 32 });
    const metadata = await sharp(result.animatedPreview!.data, { pages: -1 }).metadata();
    expect(metadata).toMatchObject({ width: 64, pageHeight: 64, pages: ANIMATED_FRAMES, loop: 0 });
    expect(await animatedColours(result.animatedPreview!.data, colours)).toEqual([...colours]);
    // The midpoint (the fifth colour's first frame) whichever way the frames were taken.
    expect(await animatedColours(result.thumbnail.data, colours)).toEqual(['cyan']);
  });

  describe('a short clip with far-apart keyframes: the midpoint and the samples from one decoding run', () => {
    const colours = ['red', 'lime', 'blue', 'yellow', 'cyan', 'magenta', 'white', 'orange'] as const;
    let log: string;
    let counted: MediaThumbnailer;
    beforeAll(async () => {
      // The real ffmpeg and ffprobe behind scripts that write down each run's arguments.
      log = path.join(files.path, 'ffmpeg-runs.log');
      const counting = async (name: string, binary: string): Promise<string> => {
        const wrapper = await files.write(name, Buffer.from(`#!/bin/sh\necho "${name} $*" >> '${log}'\nexec '${binary}' "$@"\n`));
        await chmod(wrapper, 0o755);
        return wrapper;
      };
      const ffmpegPath = await counting('ffmpeg-counting', FFMPEG);
      const ffprobePath = await counting('ffprobe-counting', tools.ffprobe.path);
      counted = mediaFor(await MediaTools.resolve({ ffmpegPath, ffprobePath, searchPath: process.env.PATH ?? '' }));
    });
    /**
     * The renditions (thumbnail 32) of a clip of `framesEach` frames a colour at 10 fps with a
     * keyframe every `gop` frames, and the tool runs they took: `decoding` (ffmpeg runs writing
     * PNGs) and `keyframeReads` (ffprobe's -read_intervals).
     */
    async function renderCounted(palette: readonly (typeof colours)[number][], framesEach: number, gop: number, name: string) {
      const { graph, output } = segmentsGraph(
        palette.map((colour) => ({ colour, frames: framesEach })),
        64,
        48,
        10,
      );
      const data = await video(`${palette.length}×${framesEach} gop ${gop}`, name, [
        ...['-filter_complex', graph, '-map', output, '-c:v', 'libx264', '-g', String(gop)],
      ]);
      const file = await files.write(name, data);
      await writeFile(log, '');
      const result = await counted.renditions(request(file, 'video', { thumbnailSize: 32 }));
      const runs = (await readFile(log, 'utf8')).split('\n');
      return {
        result,
        decoding: runs.filter((line) => line.startsWith('ffmpeg-counting') && line.includes('image2pipe')).length,
        keyframeReads: runs.filter((line) => line.startsWith('ffprobe-counting') && line.includes('-read_intervals')).length,
      };
    }

    it('8 s, one keyframe: one run gives the thumbnail its midpoint and the preview its eight frames', async () => {
      if (!ENCODERS.has('libx264')) return;
      const { result, decoding } = await renderCounted(colours, 10, 250, 'shared-8s.mp4');
      // Two before (the midpoint, then the preview's pass over the same stretch).
      expect(decoding).toBe(1);
      expect(await animatedColours(result.thumbnail.data, colours)).toEqual(['cyan']);
      expect(await animatedColours(result.animatedPreview!.data, colours)).toEqual([...colours]);
      expect(result.animatedPreview).toMatchObject({ contentType: 'image/webp', width: 64, height: 64 });
      await expectShapes(result, 64, 48, 32, 1440);
    });

    it('keyframes close together (no shared run): the keyframes are read once, for both choices', async () => {
      if (!ENCODERS.has('libx264')) return;
      const { result, keyframeReads } = await renderCounted(colours, 10, 5, 'dense.mp4');
      expect(keyframeReads).toBe(1);
      expect(await animatedColours(result.thumbnail.data, colours)).toEqual(['cyan']);
      expect(await animatedColours(result.animatedPreview!.data, colours)).toEqual([...colours]);
    });

    it('eight frames: the midpoint shares a frame with a sample, so each is taken on its own, as before', async () => {
      if (!ENCODERS.has('libx264')) return;
      // 0.8 s, two frames a colour: the midpoint (0.4 s) and the fourth sample (0.35 s) both fall on
      // frame 4; the last sample (0.75 s) lies past the last frame (0.7 s).
      const { result, decoding } = await renderCounted(colours.slice(0, 4), 2, 250, 'shared-8-frames.mp4');
      expect(decoding).toBeGreaterThan(1);
      expect(await animatedColours(result.thumbnail.data, colours)).toEqual(['blue']);
      // Frames 1 to 7 (libwebp may merge a colour's two frames into one).
      const shown = await animatedColours(result.animatedPreview!.data, colours);
      expect(shown.filter((colour, i) => colour !== shown[i - 1])).toEqual(['red', 'lime', 'blue', 'yellow']);
    });
  });

  it('an animated preview of a clip whose picture size changes mid-way still spreads its frames across it (MPEG-TS, one pass)', async () => {
    if (!ENCODERS.has('libx264')) return;
    const colours = ['red', 'lime', 'blue', 'yellow', 'cyan', 'magenta', 'white', 'orange'] as const;
    // Two halves of 6 s at 10 fps, 96×64 then 128×64, joined without re-encoding: one H.264 stream
    // whose size changes at 6 s.
    const half = async (part: readonly (typeof colours)[number][], width: number, name: string): Promise<string> => {
      const { graph, output } = segmentsGraph(
        part.map((colour) => ({ colour, frames: 15 })),
        width,
        64,
        10,
      );
      const data = await video(`size change ${name}`, `${name}.ts`, [
        ...['-filter_complex', graph, '-map', output, '-c:v', 'libx264', '-g', '10', '-f', 'mpegts'],
      ]);
      return files.write(`${name}.ts`, data);
    };
    const first = await half(colours.slice(0, 4), 96, 'narrow');
    const second = await half(colours.slice(4), 128, 'wide');
    const list = await files.write('halves.txt', Buffer.from(`file '${first}'\nfile '${second}'\n`));
    const joined = path.join(files.path, 'size-change.ts');
    await runFfmpeg(FFMPEG, ['-f', 'concat', '-safe', '0', '-i', list, '-c', 'copy', '-f', 'mpegts', joined]);
    const result = await render('size-change.ts', await readFile(joined), 'video', { thumbnailSize: 32 });
    expect(await animatedColours(result.animatedPreview!.data, colours)).toEqual([...colours]);
  });

  it('a clip of two frames a second apart still gets an animated preview (of the frame its samples fall on)', async () => {
    if (!ENCODERS.has('libx264')) return;
    const data = await video('two frames', 'two-frames.mp4', [
      ...['-f', 'lavfi', '-i', 'testsrc2=s=64x48:r=1', '-frames:v', '2', '-c:v', 'libx264', '-pix_fmt', 'yuv420p'],
    ]);
    const result = await render('two-frames.mp4', data, 'video', { thumbnailSize: 32 });
    expect(result.animatedPreview).toMatchObject({ contentType: 'image/webp', width: 64, height: 64 });
    expect(await sharp(result.animatedPreview!.data, { pages: -1 }).metadata()).toMatchObject({ format: 'webp', width: 64 });
  });

  it.each([
    ['one-frame.mp4', 'libx264', ['-c:v', 'libx264', '-pix_fmt', 'yuv420p']],
    ['one-frame.ts', 'libx264', ['-c:v', 'libx264', '-pix_fmt', 'yuv420p', '-f', 'mpegts']],
    // Written as live: no duration in the container, so the frame's own (its packet's) is the clip's.
    ['one-frame.webm', 'libvpx', ['-c:v', 'libvpx', '-deadline', 'realtime', '-live', '1', '-f', 'webm']],
  ])('a clip of one frame (%s) lasts that frame (1/30 s) and its animated preview is that frame', async (name, encoder, args) => {
    if (!ENCODERS.has(encoder)) return;
    const data = await video('one frame', name, ['-f', 'lavfi', '-i', 'color=c=magenta:s=64x48:r=30', '-frames:v', '1', ...args]);
    const result = await render(name, data, 'video', { thumbnailSize: 32 });
    expect(Math.abs((result.durationMs ?? 0) - 1000 / 30)).toBeLessThanOrEqual(1);
    expect(await animatedColours(result.thumbnail.data, ['magenta', 'lime'])).toEqual(['magenta']);
    expect(result.animatedPreview).toMatchObject({ contentType: 'image/webp', width: 64, height: 64 });
    expect(await sharp(result.animatedPreview!.data, { pages: -1 }).metadata()).toMatchObject({ format: 'webp', width: 64, height: 64 });
    expect(await animatedColours(result.animatedPreview!.data, ['magenta', 'lime'])).toEqual(['magenta']);
  });

  it('an MPEG-TS clip with one keyframe (no index to seek by) gets its midpoint frame and an animated preview across it', async () => {
    if (!ENCODERS.has('libx264')) return;
    const colours = ['red', 'lime', 'blue', 'yellow', 'cyan', 'magenta', 'white', 'orange'] as const;
    // 8 colours × 6 frames at 10 fps: 4.8 s, the midpoint (2.4 s) in the fifth colour.
    const { graph, output } = segmentsGraph(
      colours.map((colour) => ({ colour, frames: 6 })),
      64,
      48,
      10,
    );
    const data = await video('one keyframe ts', 'one-keyframe.ts', [
      ...['-filter_complex', graph, '-map', output, '-c:v', 'libx264', '-g', '250', '-f', 'mpegts'],
    ]);
    const result = await render('one-keyframe.ts', data, 'video', { thumbnailSize: 32 });
    expect(await animatedColours(result.thumbnail.data, colours)).toEqual(['cyan']);
    expect(result.animatedPreview).not.toBeNull();
    expect(await animatedColours(result.animatedPreview!.data, colours)).toEqual([...colours]);
  });

  /** The SDR quadrants clip converted to HDR (PQ or HLG, BT.2020, 10-bit HEVC) with SDR white at 203 cd/m² (BT.2408). */
  const hdr = (transfer: 'smpte2084' | 'arib-std-b67') =>
    video(`hdr ${transfer}`, `${transfer}.mp4`, [
      ...sdrArgs.slice(0, 4),
      '-vf',
      `zscale=tin=bt709:min=bt709:pin=bt709:rin=tv:t=${transfer}:m=bt2020nc:p=bt2020:r=tv:npl=203,format=yuv420p10le`,
      '-c:v',
      'libx265',
      '-x265-params',
      `log-level=error:colorprim=bt2020:transfer=${transfer}:colormatrix=bt2020nc`,
      '-crf',
      '12',
      '-color_primaries',
      'bt2020',
      '-color_trc',
      transfer,
      '-colorspace',
      'bt2020nc',
    ]);

  it.each(['smpte2084', 'arib-std-b67'] as const)(
    'HDR %s is tone-mapped to look like its SDR source (and the plain conversion does not)',
    async (transfer) => {
      if (!ENCODERS.has('libx265') || !tools.capabilities.toneMapping) return;
      const sdr = await quadrantMeans(
        (await render('sdr.mp4', await video('sdr', 'sdr.mp4', [...sdrArgs, '-c:v', 'libx264']), 'video')).preview!.data,
      );
      const data = await hdr(transfer);
      const mapped = await render(`${transfer}.mp4`, data, 'video');
      expect(mapped.hdr).toEqual({ transfer: transfer === 'smpte2084' ? 'pq' : 'hlg', toneMapped: true });
      const toneMapped = await quadrantMeans(mapped.preview!.data);
      const plainTools = new MediaTools(tools.ffmpeg, tools.ffprobe, { ...tools.capabilities, toneMapping: false });
      const plain = await mediaFor(plainTools).renditions(request(await files.write(`${transfer}-plain.mp4`, data), 'video'));
      expect(plain.hdr).toEqual({ transfer: transfer === 'smpte2084' ? 'pq' : 'hlg', toneMapped: false });
      const plainMeans = await quadrantMeans(plain.preview!.data);
      const differences = (means: Rgb[]) => means.map((rgb, i) => colourDistance(rgb, sdr[i]));
      console.log(
        `${transfer}: largest channel difference to the SDR frame per quadrant: tone-mapped ${differences(toneMapped).join(', ')}; plain ${differences(plainMeans).join(', ')}`,
      );
      expect(Math.max(...differences(toneMapped))).toBeLessThanOrEqual(24);
      expect(Math.max(...differences(plainMeans))).toBeGreaterThan(40);
    },
    60_000,
  );

  it('a VP9 WebM with alpha keeps it (libvpx) and is flattened onto white', async () => {
    if (!ENCODERS.has('libvpx-vp9') || !tools.capabilities.alphaDecoders.vp9) return;
    const data = await video('vp9 alpha', 'alpha.webm', [
      '-f',
      'lavfi',
      '-i',
      'color=c=black@0.0:s=64x48:d=1:r=10,format=yuva420p[bg];color=c=0x1EB41E:s=32x24:d=1:r=10,format=yuva420p[fg];[bg][fg]overlay=16:12:format=auto,format=yuva420p',
      '-c:v',
      'libvpx-vp9',
      '-pix_fmt',
      'yuva420p',
      '-auto-alt-ref',
      '0',
    ]);
    const result = await render('alpha.webm', data, 'video');
    const means = await quadrantMeans(result.thumbnail2x.data);
    const { data: px, info } = await sharp(result.thumbnail2x.data).raw().toBuffer({ resolveWithObject: true });
    const at = (x: number, y: number) => [...px.subarray((y * info.width + x) * 3, (y * info.width + x) * 3 + 3)];
    expect(colourDistance(at(4, 4), [255, 255, 255])).toBeLessThanOrEqual(12);
    expect(colourDistance(at(128, 128), TR)).toBeLessThanOrEqual(40);
    expect(means.length).toBe(4);
  });

  // The native decoders of these give an alpha plane (ProRes 4444 yuva444p10le, QuickTime Animation
  // argb, PNG rgba): the transparent margin was black (what lies under the alpha) before.
  it.each([
    ['ProRes 4444', 'prores_ks', ['-profile:v', '4', '-pix_fmt', 'yuva444p10le']],
    ['QuickTime Animation', 'qtrle', ['-pix_fmt', 'argb']],
    ['PNG-coded', 'png', ['-pix_fmt', 'rgba']],
  ])('a %s MOV with alpha keeps it and is flattened onto white', async (_name, codec, args) => {
    if (!ENCODERS.has(codec)) return;
    const data = await video(`${codec} alpha`, `alpha-${codec}.mov`, [
      '-f',
      'lavfi',
      '-i',
      'color=c=black@0.0:s=64x48:d=1:r=10,format=rgba[bg];color=c=0x1EB41E:s=32x24:d=1:r=10,format=rgba[fg];[bg][fg]overlay=16:12:format=auto,format=rgba',
      '-c:v',
      codec,
      ...args,
      '-f',
      'mov',
    ]);
    const result = await render(`alpha-${codec}.mov`, data, 'video');
    const { data: px, info } = await sharp(result.thumbnail2x.data).raw().toBuffer({ resolveWithObject: true });
    const at = (x: number, y: number) => [...px.subarray((y * info.width + x) * 3, (y * info.width + x) * 3 + 3)];
    expect(colourDistance(at(4, 4), [255, 255, 255])).toBeLessThanOrEqual(12);
    expect(colourDistance(at(128, 128), [0x1e, 0xb4, 0x1e])).toBeLessThanOrEqual(40);
  });

  it('an interlaced clip is deinterlaced: one field’s picture, not the two fields blended (red and blue fields)', async () => {
    const data = await video('interlaced red/blue fields', 'interlaced.mp4', [
      '-f',
      'lavfi',
      '-i',
      'color=c=red:s=640x480:r=50:d=1[a];color=c=blue:s=640x480:r=50:d=1[b];[a][b]interleave,tinterlace=mode=interleave_top,setfield=tff',
      '-c:v',
      'libx264',
      '-flags',
      '+ildct+ilme',
      '-x264opts',
      'tff=1',
      '-pix_fmt',
      'yuv420p',
    ]);
    const result = await render('interlaced.mp4', data, 'video');
    for (const rendition of [result.thumbnail.data, result.preview!.data]) {
      const { channels } = await sharp(rendition).stats();
      const [r, , b] = channels.map((channel) => channel.mean);
      // Blended fields are purple (≈ 127, 0, 127); one field is red or blue.
      expect(Math.abs(r - b)).toBeGreaterThan(180);
    }
  });

  it('truncated new containers fail cleanly with a reason', async () => {
    const mkv = await video('v1', 'clip.mkv', containers[0][1]);
    const ts = await video('v1', 'clip.mts', containers[1][1]);
    for (const [name, data] of [
      ['cut.mkv', truncate(mkv, 200)],
      ['cut.mts', truncate(ts, 100)],
    ] as const) {
      const error = await rejectionOf(render(name, data, 'video'));
      expect(error).toBeInstanceOf(UnprocessableMediaError);
      expect((error as UnprocessableMediaError).reason).toMatch(/undecodable|truncated|no_video_stream/);
    }
  });

  it('an image named as a video still fails as the video it is not', async () => {
    const error = await rejectionOf(render('fake.mkv', await quadrantsPng(32, 32), 'video'));
    expect((error as Error).message).toMatch(/not a video this service can read/);
  });
});
