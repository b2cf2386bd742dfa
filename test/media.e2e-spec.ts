import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { ApiClient } from './support/client';
import { ffmpegBinary } from './support/ffmpeg';
import { cachedFixture } from './support/fixture-cache';
import { meanColour, solid } from './support/media';
import { TestStack } from './support/stack';
import { runFfmpeg } from './support/video-fixtures';

jest.setTimeout(180_000);

const run = promisify(execFile);
/** A blue inside CMYK's gamut too (the TIFF is CMYK). */
const BLUE = '#4a6fa5';
const BLUE_RGB = [0x4a, 0x6f, 0xa5];

async function viaTool(recipe: string, extension: string, make: (input: string, output: string) => Promise<unknown>): Promise<Buffer> {
  return cachedFixture(`e2e ${recipe} ${BLUE}`, async () => {
    const dir = os.tmpdir();
    const input = path.join(dir, `e2e-${process.pid}-${extension}.png`);
    const output = path.join(dir, `e2e-${process.pid}.${extension}`);
    await solid(320, 240, BLUE).png().toFile(input);
    await make(input, output);
    return readFile(output);
  });
}

/**
 * The new media end to end, through the built bundles (file-type loaded by Node's require() in the
 * api, libheif-js's thread in the worker): each accepted format is detected by its content and
 * thumbnailed; an image named as a video is refused saying what it is.
 */
describe('new media through the built api and worker', () => {
  let stack: TestStack;

  beforeAll(async () => {
    stack = await TestStack.start({ workers: 1 });
  });
  afterAll(() => stack?.stop());

  it('HEIC, AVIF, TIFF (CMYK; RGB with its directory last), BMP, MKV, MPEG-TS, 3GP and a PNG named .jpg all become blue 128×128 thumbnails', async () => {
    const ffmpeg = ffmpegBinary();
    const clip =
      (format: string, extra: string[] = []) =>
      (input: string, output: string) =>
        runFfmpeg(ffmpeg, [
          '-loop',
          '1',
          '-i',
          input,
          '-t',
          '1',
          '-r',
          '10',
          '-vf',
          'scale=176:144,format=yuv420p',
          ...extra,
          '-f',
          format,
          output,
        ]);
    const files = [
      {
        name: 'IMG_0001.HEIC',
        type: 'image/heic',
        data: await viaTool('heic', 'heic', (i, o) => run('heif-enc', ['-q', '80', i, '-o', o])),
      },
      { name: 'photo.avif', type: 'image/avif', data: await solid(320, 240, BLUE).avif().toBuffer() },
      { name: 'scan.tif', type: 'image/tiff', data: await solid(320, 240, BLUE).toColourspace('cmyk').tiff().toBuffer() },
      // Uncompressed RGB: its directory comes after 270 kB of pixels, past the bytes sniffed for its type.
      { name: 'export.tiff', type: 'image/tiff', data: await solid(300, 300, BLUE).tiff({ compression: 'none' }).toBuffer() },
      { name: 'paint.bmp', type: 'image/bmp', data: await viaTool('bmp', 'bmp', (i, o) => runFfmpeg(ffmpeg, ['-i', i, '-c:v', 'bmp', o])) },
      { name: 'screen.mkv', type: 'video/x-matroska', data: await viaTool('mkv', 'mkv', clip('matroska', ['-c:v', 'libx264'])) },
      {
        name: 'camcorder.mts',
        type: 'video/vnd.dlna.mpeg-tts',
        data: await viaTool('mts', 'mts', clip('mpegts', ['-c:v', 'libx264', '-g', '5'])),
      },
      { name: 'old-phone.3gp', type: 'video/3gpp', data: await viaTool('3gp', '3gp', clip('3gp', ['-c:v', 'h263'])) },
      { name: 'renamed.jpg', type: 'image/jpeg', data: await solid(320, 240, BLUE).png().toBuffer() },
    ];
    const alice = await ApiClient.register(stack.baseUrl);
    const jobs = await alice.uploadOk(files);
    expect(jobs.map((job) => [job.originalFilename, job.fileType, job.mimeType])).toEqual([
      ['IMG_0001.HEIC', 'image', 'image/heic'],
      ['photo.avif', 'image', 'image/avif'],
      ['scan.tif', 'image', 'image/tiff'],
      ['export.tiff', 'image', 'image/tiff'],
      ['paint.bmp', 'image', 'image/bmp'],
      ['screen.mkv', 'video', 'video/x-matroska'],
      ['camcorder.mts', 'video', 'video/mp2t'],
      ['old-phone.3gp', 'video', 'video/3gpp'],
      ['renamed.jpg', 'image', 'image/png'],
    ]);
    for (const job of jobs) {
      const done = await alice.waitFor(job.id, ['completed', 'failed'], 60_000);
      expect([done.originalFilename, done.status, done.errorMessage]).toEqual([job.originalFilename, 'completed', null]);
      const thumbnail = await alice.fetchBytes(done.thumbnailUrl!);
      expect(await sharp(thumbnail.data).metadata()).toMatchObject({ format: 'jpeg', width: 128, height: 128 });
      const mean = await meanColour(thumbnail.data);
      const distance = Math.max(...mean.map((value, i) => Math.abs(value - BLUE_RGB[i])));
      expect([done.originalFilename, distance < 20]).toEqual([done.originalFilename, true]);
    }
  });

  it("health names the worker's decoders (HEIC in wasm, tone mapping or its fallback, video alpha)", async () => {
    const response = await fetch(`${stack.baseUrl}/api/health`);
    const health = (await response.json()) as { details: { workers: { media: { decoders: Record<string, string> } } } };
    expect(health.details.workers.media.decoders).toEqual({
      heic: 'libheif-js 1.23 (wasm)',
      hdrVideo: expect.stringMatching(/^(tone-mapped to SDR|fallback: plain conversion)/) as string,
      videoAlpha: expect.stringMatching(/libvpx|unavailable/) as string,
      bmp: 'ffmpeg',
    });
  });

  it('an image named as a video is refused as the image it is, and the other file still goes through', async () => {
    const alice = await ApiClient.register(stack.baseUrl);
    const response = await alice.upload([
      { name: 'holiday.mp4', type: 'video/mp4', data: await solid(64, 64, BLUE).png().toBuffer() },
      { name: 'ok.png', type: 'image/png', data: await solid(64, 64, BLUE).png().toBuffer() },
    ]);
    expect(response.status).toBe(201);
    expect(response.body.rejected).toEqual([
      {
        originalFilename: 'holiday.mp4',
        code: 'type_mismatch',
        message: '“holiday.mp4” is a PNG image but is named .mp4. Rename it to .png if it really is PNG.',
      },
    ]);
    expect(response.body.jobs.map((job) => job.originalFilename)).toEqual(['ok.png']);
  });
});
