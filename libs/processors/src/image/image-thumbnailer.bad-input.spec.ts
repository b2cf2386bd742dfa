import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import sharp from 'sharp';
import { loadConfig, UnprocessableMediaError } from '@app/core';
import { ffmpegBinary } from '@test/support/ffmpeg';
import { cachedFixture } from '@test/support/fixture-cache';
import {
  createTempDir,
  encode,
  measure,
  pngBomb,
  pseudoRandomBytes,
  quadrants,
  RASTER_FORMATS,
  type RasterFormat,
  readPixels,
  rejectionOf,
  storedZip,
  type TempDir,
  truncate,
  webpBomb,
  withGifFrameSize,
  withGifScreen,
  withJpegDimensions,
} from '@test/support/image-fixtures';
import { runFfmpeg } from '@test/support/video-fixtures';
import { ImageThumbnailer } from './image-thumbnailer';
import { describeImageError } from './sharp-errors';

/** Files a user should get a clear, short reason for, and files that only look dangerous. */

// Real decoders on a shared 2-core machine: allow for a busy moment rather than flake at 5 s.
jest.setTimeout(30_000);

const SIZE = 128;
const env = { NODE_ENV: 'test', JWT_SECRET: 'image-thumbnailer-spec-secret-0123456789' };
const thumbnailer = new ImageThumbnailer(loadConfig(env));
const MiB = 2 ** 20;

let files: TempDir;
let photo: Buffer;
const encoded = {} as Record<RasterFormat, Buffer>;
beforeAll(async () => {
  files = await createTempDir('thumbs-image-bad-input-');
  // Busy content, so every cut lands inside real image data.
  const noise = quadrants(320, 240, [
    [200, 40, 40],
    [40, 200, 40],
    [40, 40, 200],
    [220, 220, 40],
  ]);
  noise.data.set(pseudoRandomBytes(noise.data.length / 2, 1), noise.data.length / 4);
  for (const format of RASTER_FORMATS) encoded[format] = await encode(noise, format);
  photo = encoded.jpeg;
});
afterAll(() => files.remove());

async function failureOf(data: Buffer, name: string): Promise<UnprocessableMediaError> {
  const error = await rejectionOf(thumbnailer.fromFile(await files.write(name, data), SIZE));
  expect(error).toBeInstanceOf(UnprocessableMediaError);
  return error as UnprocessableMediaError;
}

/** What a person reads in the job list: one short sentence or two, no internals or server paths. */
function expectReadable(error: UnprocessableMediaError): void {
  expect(error.message).not.toMatch(/\n|vips|Input (file|buffer)|corrupt header|\/tmp|thumbs-image|\(\)|:\s*\)/i);
  expect(error.message.length).toBeLessThanOrEqual(160);
  expect(error.message).toMatch(/^The (image|file) .+\.$/);
}

/** The thumbnailer still works: the next job after a failure succeeds. */
async function expectStillWorking(): Promise<void> {
  const jpeg = await thumbnailer.fromFile(await files.write('after-failure.jpg', photo), SIZE);
  expect((await sharp(jpeg).metadata()).width).toBe(SIZE);
}

describe('truncated uploads fail with a clear reason (failOn stays strict about truncation)', () => {
  const cuts = [0.1, 0.5, 0.9] as const;
  it.each(RASTER_FORMATS.flatMap((format) => cuts.map((cut) => [format, cut] as const)))('%s cut at %f', async (format, cut) => {
    const error = await failureOf(truncate(encoded[format], cut), `cut.${format}`);
    // libwebp cannot tell a cut-off file from a damaged one: it only says it cannot parse it.
    expect(error.reason).toBe(format === 'webp' ? 'undecodable' : 'truncated');
    expect(error.message).toMatch(format === 'webp' ? /damaged|incomplete/ : /incomplete|cut off/);
    expect(error.message).toMatch(/upload/i);
    expectReadable(error);
    await expectStillWorking();
  });

  it('an interlaced PNG cut inside its passes (libspng says only "Unknown error")', async () => {
    const interlaced = await sharp(encoded.png).png({ progressive: true }).toBuffer();
    for (const cut of cuts) {
      const error = await failureOf(truncate(interlaced, cut), 'interlaced.png');
      expect(error.reason).toBe('truncated');
      expect(error.message).not.toMatch(/unknown/i);
      expectReadable(error);
    }
  });

  it('an AVIF cut short names no path on this server (libvips names the input by its path on every line)', async () => {
    const avif = await sharp(encoded.png).avif({ bitdepth: 10 }).toBuffer();
    for (const bytes of [600, Math.floor(avif.length / 2)]) {
      const error = await failureOf(avif.subarray(0, bytes), 'cut.avif');
      expect(['truncated', 'undecodable']).toContain(error.reason);
      expect(error.message).not.toMatch(/bad seek|source|\(\d+\.\d+\)/);
      expectReadable(error);
    }
  });

  it.each(RASTER_FORMATS)('%s cut inside its header', async (format) => {
    const error = await failureOf(truncate(encoded[format], 20), `header.${format}`);
    expect(['truncated', 'undecodable']).toContain(error.reason);
    expectReadable(error);
  });
});

describe('a complete JPEG whose data is damaged is damaged, not cut short', () => {
  const FFMPEG = ffmpegBinary();
  /** 64×3200 from ffmpeg's MJPEG encoder with slices: a restart marker after every row of blocks. */
  const withRestarts = () =>
    cachedFixture(`ffmpeg ${FFMPEG} mjpeg slices testsrc2 64x3200`, async () => {
      const out = path.join(files.path, 'restarts.jpg');
      await runFfmpeg(FFMPEG, [
        ...['-f', 'lavfi', '-i', 'testsrc2=s=64x3200', '-frames:v', '1'],
        ...['-c:v', 'mjpeg', '-q:v', '3', '-threads', '2', '-slices', '2', '-f', 'image2', out],
      ]);
      return readFile(out);
    });

  /**
   * Damage inside the entropy-coded data, the file otherwise whole (its EOI last): half of the first
   * restart interval's bytes gone (libjpeg: "premature end of data segment"), and a later restart
   * marker changed into another marker, which libjpeg trips over at every restart after it until
   * libvips gives up (the way a few flipped bits in a file with restart markers fail).
   */
  async function damaged(): Promise<Buffer> {
    const jpeg = await withRestarts();
    const scan = jpeg.indexOf(Buffer.from([0xff, 0xda]));
    const restarts: number[] = [];
    for (let at = scan; at < jpeg.length - 1; at++)
      if (jpeg[at] === 0xff && jpeg[at + 1] >= 0xd0 && jpeg[at + 1] <= 0xd7) restarts.push(at);
    expect(restarts.length).toBeGreaterThan(150);
    const data = Buffer.from(jpeg);
    data[restarts[5] + 1] = 0xc4;
    const [from, to] = [restarts[0] + 2, restarts[1]];
    return Buffer.concat([data.subarray(0, from + Math.floor((to - from) / 2)), data.subarray(to)]);
  }

  it('says damaged and re-save, not upload the complete file again, also with bytes after its end (a motion photo)', async () => {
    const jpeg = await damaged();
    expect(jpeg.subarray(-2)).toEqual(Buffer.from([0xff, 0xd9]));
    // What libjpeg says is what a cut-off file makes it say.
    await expect(sharp(jpeg, { failOn: 'error' }).toBuffer()).rejects.toThrow(/premature end of data segment/);
    for (const data of [jpeg, Buffer.concat([jpeg, Buffer.from('\0\0\0\x18ftypmp42 and the rest of a video', 'latin1')])]) {
      const error = await failureOf(data, 'damaged.jpg');
      expect(error.reason).toBe('undecodable');
      expect(error.message).toBe(
        'The image file is damaged and could not be decoded (Corrupt JPEG data: premature end of data segment). Re-save it in an image editor and upload it again.',
      );
      expectReadable(error);
    }
  });

  it('the same file cut short is still incomplete', async () => {
    const error = await failureOf(truncate(await damaged(), 0.6), 'damaged-cut.jpg');
    expect(error.reason).toBe('truncated');
    expect(error.message).toMatch(/Upload the complete file again\.$/);
  });
});

describe('JPEGs of a kind the decoder cannot read are named, not called damaged', () => {
  const FFMPEG = ffmpegBinary();
  /** ffmpeg's lossless JPEG (SOF3) of a test picture, in `pixelFormat` (RGB is stored at 9 bits a sample). */
  const lossless = (pixelFormat: string) =>
    cachedFixture(`ffmpeg ${FFMPEG} ljpeg testsrc2 64x48 ${pixelFormat}`, async () => {
      const out = path.join(files.path, `lossless-${pixelFormat}.jpg`);
      await runFfmpeg(FFMPEG, [
        '-f',
        'lavfi',
        '-i',
        'testsrc2=s=64x48',
        '-frames:v',
        '1',
        '-c:v',
        'ljpeg',
        '-pix_fmt',
        pixelFormat,
        '-f',
        'image2',
        out,
      ]);
      return readFile(out);
    });
  /** A baseline JPEG whose frame header says 12 bits a sample. */
  const twelveBit = () => {
    const jpeg = Buffer.from(photo);
    jpeg[jpeg.indexOf(Buffer.from([0xff, 0xc0])) + 4] = 12;
    return Promise.resolve(jpeg);
  };

  it.each([
    // libjpeg refuses its header ("Unsupported JPEG data precision 9").
    ['lossless', 'RGB (bgr24)', () => lossless('bgr24')],
    // libjpeg reads its header, then cannot give libvips what it asks for ("Unsupported color conversion request").
    ['lossless', 'YCbCr (yuvj444p)', () => lossless('yuvj444p')],
    ['12-bit', 'baseline', twelveBit],
  ])('a %s JPEG, %s', async (variant, _how, make) => {
    const error = await failureOf(await make(), 'variant.jpg');
    expect(error.reason).toBe('undecodable');
    expect(error.message).toBe(
      `The image is a ${variant} JPEG, a kind of JPEG this service cannot decode. Save it as a standard JPEG and upload it again.`,
    );
    expectReadable(error);
  });

  // The marker walk that tells these apart runs on error paths: a header of 8 MiB of fill bytes, or
  // of millions of empty segments before a 12-bit frame, took one file read per step (minutes).
  it('8 MiB of fill bytes after SOI: incomplete, described from memory at once', async () => {
    const error = await failureOf(Buffer.concat([Buffer.from([0xff, 0xd8]), Buffer.alloc(8 * MiB, 0xff)]), 'fill.jpg');
    expect(error.reason).toBe('truncated');
    expectReadable(error);
    await expectStillWorking();
  });

  it('two million empty segments before a 12-bit frame header: named 12-bit, described from memory at once', async () => {
    const jpeg = await twelveBit();
    const empty = Buffer.alloc(4 * 2_000_000);
    for (let i = 0; i < empty.length; i += 4) empty.set([0xff, 0xe1, 0x00, 0x02], i);
    const error = await failureOf(Buffer.concat([jpeg.subarray(0, 2), empty, jpeg.subarray(2)]), 'segments.jpg');
    expect(error.message).toMatch(/^The image is a 12-bit JPEG/);
    await expectStillWorking();
  });
});

describe('files that are not images', () => {
  const magic: Record<RasterFormat, Buffer> = {
    jpeg: Buffer.from([0xff, 0xd8, 0xff, 0xe0]),
    png: Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    gif: Buffer.from('GIF89a', 'latin1'),
    webp: Buffer.from('RIFF\x00\x10\x00\x00WEBPVP8 ', 'latin1'),
  };

  it.each(RASTER_FORMATS)('random bytes behind a %s signature', async (format) => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const error = await failureOf(Buffer.concat([magic[format], pseudoRandomBytes(4096, seed)]), `random.${format}`);
      expect(['truncated', 'undecodable']).toContain(error.reason);
      expectReadable(error);
    }
    await expectStillWorking();
  });

  it('an empty file', async () => {
    const error = await failureOf(Buffer.alloc(0), 'empty.jpg');
    expect(error.reason).toBe('undecodable');
    expect(error.message).toMatch(/empty|not an image/);
    expectReadable(error);
  });

  it("a file that is gone is not the upload's fault: a plain error the worker retries, not a verdict on the file", async () => {
    const error = await rejectionOf(thumbnailer.fromFile(path.join(files.path, 'missing.jpg'), SIZE));
    expect(error).toBeInstanceOf(Error);
    expect(error).not.toBeInstanceOf(UnprocessableMediaError);
  });
});

describe('decompression bombs are refused from the header, before decoding', () => {
  const grey = [90, 90, 90] as const;
  const tiny = (format: RasterFormat) => encode(quadrants(16, 16, [grey, grey, grey, grey]), format);
  const bombs: [string, () => Promise<Buffer>][] = [
    ['a PNG whose IHDR declares 65535×65535', () => Promise.resolve(pngBomb(65535, 65535))],
    ['a WebP declaring 16383×16383', () => webpBomb(16383, 16383)],
    ['a GIF whose frame declares 65535×65535', async () => withGifFrameSize(await tiny('gif'), 65535, 65535)],
    ['a JPEG whose SOF declares 65500×65500', async () => withJpegDimensions(await tiny('jpeg'), 65500, 65500)],
  ];

  it.each(bombs)('%s', async (name, make) => {
    const data = await make();
    const declared = await sharp(data, { limitInputPixels: false }).metadata();
    expect({ small: data.length < 64 * 1024, huge: declared.width * declared.height > 250_000_000 }).toEqual({ small: true, huge: true });

    const file = await files.write('bomb', data);
    const fromFile = await measure(() => rejectionOf(thumbnailer.fromFile(file, SIZE)));
    // From a buffer (decoded video frames) sharp's own limitInputPixels refuses it, also from the header.
    const fromBuffer = await measure(() => rejectionOf(thumbnailer.fromBuffer(data, SIZE)));
    console.log(
      `${name}: refused in ${fromFile.ms.toFixed(1)} ms (buffer: ${fromBuffer.ms.toFixed(1)} ms), peak RSS +${(fromFile.peakRssGrowth / MiB).toFixed(1)} MiB`,
    );

    for (const { result: error, peakRssGrowth } of [fromFile, fromBuffer]) {
      expect(error).toBeInstanceOf(UnprocessableMediaError);
      expect((error as UnprocessableMediaError).reason).toBe('too_many_pixels');
      expectReadable(error as UnprocessableMediaError);
      // Decoding even a sliver of these would take gigabytes; reading a header takes nothing.
      expect(peakRssGrowth).toBeLessThan(32 * MiB);
    }
    expect((fromFile.result as Error).message).toBe(
      `The image is ${declared.width}×${declared.height} pixels (${+((declared.width * declared.height) / 1e6).toFixed(1)} MP), above this service's limit of 100 MP.`,
    );
    await expectStillWorking();
  });

  it('a GIF whose logical screen (only) declares 65535×65535 is sized by its frames: thumbnailed, nothing allocated', async () => {
    // libnsgif ignores screen sizes above 2048 and sizes the canvas from the frames.
    const gif = withGifScreen(await tiny('gif'), 65535, 65535);
    const { result, peakRssGrowth } = await measure(async () => thumbnailer.fromFile(await files.write('screen.gif', gif), SIZE));
    expect((await readPixels(result)).mean(SIZE / 2, SIZE / 2)).toEqual([90, 90, 90]);
    expect(peakRssGrowth).toBeLessThan(32 * MiB);
  });

  it('MAX_INPUT_PIXELS is the limit: at it accepted, one row above refused, from a file and from a buffer', async () => {
    const small = new ImageThumbnailer(loadConfig({ ...env, MAX_INPUT_PIXELS: '10000' }));
    const atLimit = await encode(quadrants(100, 100, [grey, grey, grey, grey]), 'png');
    const aboveLimit = await encode(quadrants(100, 101, [grey, grey, grey, grey]), 'png');

    expect((await sharp(await small.fromFile(await files.write('at.png', atLimit), SIZE)).metadata()).width).toBe(SIZE);
    expect((await sharp(await small.fromBuffer(atLimit, SIZE)).metadata()).width).toBe(SIZE);
    const above = await files.write('above.png', aboveLimit);
    // One at a time: a second call started early could reject before anything awaits it.
    for (const refused of [() => small.fromFile(above, SIZE), () => small.fromBuffer(aboveLimit, SIZE)]) {
      const error = await rejectionOf(refused());
      expect(error).toBeInstanceOf(UnprocessableMediaError);
      expect((error as UnprocessableMediaError).reason).toBe('too_many_pixels');
      expect((error as Error).message).toBe("The image is 100×101 pixels (0.0101 MP), above this service's limit of 0.01 MP.");
    }
  });

  it('one row over the default 100 MP says so in numbers that differ (100.01 MP, not 100 MP)', async () => {
    const file = await files.write('one-row-over.png', pngBomb(10000, 10001));
    const error = await rejectionOf(thumbnailer.fromFile(file, SIZE));
    expect(error).toMatchObject({
      reason: 'too_many_pixels',
      message: "The image is 10000×10001 pixels (100.01 MP), above this service's limit of 100 MP.",
    });
  });
});

describe('a side longer than 65,535 pixels is refused from the header, whatever the pixel count', () => {
  // Within 100 MP but out of proportion to decode: libvips buffers a whole line per thread and pays
  // per line, so 99,000,000×1 took 3.4 GB and 1×99,000,000 took 37 s before this rule.
  const line = (width: number, height: number) =>
    sharp({ create: { width, height, channels: 3, background: { r: 90, g: 90, b: 90 } } })
      .png()
      .toBuffer();

  it.each([
    [70_000, 1],
    [1, 70_000],
    [65_536, 2],
  ])('%i×%i PNG: too_many_pixels, naming the limit, nothing decoded', async (width, height) => {
    const file = await files.write('line.png', await line(width, height));
    for (const attempt of [() => thumbnailer.fromFile(file, SIZE), async () => thumbnailer.fromBuffer(await line(width, height), SIZE)]) {
      const error = await rejectionOf(attempt());
      expect(error).toBeInstanceOf(UnprocessableMediaError);
      expect((error as UnprocessableMediaError).reason).toBe('too_many_pixels');
      expect((error as Error).message).toBe(`The image is ${width}×${height} pixels: this service takes at most 65,535 pixels on a side.`);
    }
    await expectStillWorking();
  });

  it.each([
    [65_535, 1],
    [1, 65_535],
  ])('%i×%i PNG, at the limit: thumbnailed', async (width, height) => {
    const jpeg = await thumbnailer.fromFile(await files.write('edge.png', await line(width, height)), SIZE);
    const pixels = await readPixels(jpeg);
    expect([pixels.width, pixels.height]).toEqual([SIZE, SIZE]);
    expect(pixels.mean(SIZE / 2, SIZE / 2)).toEqual([90, 90, 90]);
  });
});

describe('polyglots: a valid JPEG with something appended', () => {
  const MARK = 'THUMBS-POLYGLOT-PAYLOAD';
  const payloads: [string, Buffer][] = [
    ['a ZIP archive', storedZip('index.html', Buffer.from(`<script>alert("${MARK}")</script>`))],
    ['an HTML page', Buffer.from(`<!doctype html><html><body><script>alert("${MARK}")</script></body></html>`)],
  ];

  it.each(payloads)('with %s is thumbnailed as the JPEG it is, a clean re-encode without the payload', async (_name, payload) => {
    const polyglot = Buffer.concat([photo, payload]);
    const jpeg = await thumbnailer.fromFile(await files.write('polyglot.jpg', polyglot), SIZE);

    expect(jpeg.includes(MARK)).toBe(false);
    expect(jpeg.includes('<script')).toBe(false);
    expect(jpeg.includes(Buffer.from('PK\x03\x04', 'latin1'))).toBe(false);
    expect(jpeg.subarray(-2)).toEqual(Buffer.from([0xff, 0xd9])); // ends at EOI: nothing trails it
    expect(jpeg.indexOf(Buffer.from([0xff, 0xd9]))).toBe(jpeg.length - 2);
    const pixels = await readPixels(jpeg);
    expect(pixels.width).toBe(SIZE);
    expect(pixels.mean(8, 8).every((v, i) => Math.abs(v - [200, 40, 40][i]) <= 30)).toBe(true);
  });
});

describe('describeImageError', () => {
  it("keeps the decoder's words and drops paths, libheif's probing and its error codes, whoever's file they name", () => {
    const raw = [
      '/srv/thumbs/files/uploads/01a24996-d36b-739f: bad seek to 1024',
      'source: bad seek to 601',
      'heif: Invalid input: Unexpected end of file: Extent in iloc box (points to /var/lib/thumbs/files/x/y.heic) (2.100)',
    ].join('\n');
    const error = describeImageError(new Error(raw)) as UnprocessableMediaError;
    expect(error.reason).toBe('truncated');
    expect(error.message).toMatch(/^The image file is incomplete or damaged \(Invalid input: Unexpected end of file: Extent in…\)\./);
    const spaced = describeImageError(
      new Error('/Users/John Smith/thumbs data/uploads/x: bad seek to 1024\nheif: Invalid input: No ftyp box'),
    );
    expect(spaced.message).toBe(
      'The image file is damaged and could not be decoded (Invalid input: No ftyp box). Re-save it in an image editor and upload it again.',
    );
    // Read from a buffer (an animated AVIF), libvips names the input "source" after its prefix.
    expect(
      describeImageError(new Error('Input buffer has corrupt header: source: bad seek to 11754\nheif: Invalid input: No ftyp box (2.124)'))
        .message,
    ).toBe(
      'The image file is damaged and could not be decoded (Invalid input: No ftyp box). Re-save it in an image editor and upload it again.',
    );
    const other = describeImageError(
      new Error('/home/alice/holiday/IMG_0042.png: libspng read error in /tmp/x/y'),
    ) as UnprocessableMediaError;
    expect(other.message).not.toMatch(/\/home|\/tmp|alice|IMG_0042/);
    expect((describeImageError(new Error('Unknown error')) as UnprocessableMediaError).message).toBe(
      'The image file is damaged and could not be decoded. Re-save it in an image editor and upload it again.',
    );
  });
});
