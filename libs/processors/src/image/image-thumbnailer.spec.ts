import fc from 'fast-check';
import sharp from 'sharp';
import { loadConfig } from '@app/core';
import {
  type Channels,
  coverProblems,
  coverTarget,
  createTempDir,
  encode,
  RASTER_FORMATS,
  type RasterFormat,
  type TempDir,
} from '@test/support/image-fixtures';
import { ImageThumbnailer } from './image-thumbnailer';

/** The contract's two image properties, over generated images of every format and channel count. */

const thumbnailer = new ImageThumbnailer(loadConfig({ NODE_ENV: 'test', JWT_SECRET: 'image-thumbnailer-spec-secret-0123456789' }));
const channelCounts = fc.constantFrom<Channels>(1, 2, 3, 4);
const formats = fc.constantFrom<RasterFormat>(...RASTER_FORMATS);
/** THUMBNAIL_SIZE: the default often, anything the config accepts (16…2048) otherwise. */
const thumbnailSizes = fc.oneof(fc.constant(128), fc.integer({ min: 16, max: 512 }), fc.integer({ min: 16, max: 2048 }));
/** Keeps one run under a few hundred milliseconds: big GIF and WebP encodes are slow. */
const MAX_GENERATED_PIXELS = 3_000_000;

let files: TempDir;
beforeAll(async () => {
  files = await createTempDir('thumbs-image-properties-');
});
afterAll(() => files.remove());

async function thumbnailOf(width: number, height: number, channels: Channels, format: RasterFormat, size: number) {
  const source = coverTarget(width, height, channels);
  const file = await files.write(`source.${format}`, await encode(source, format));
  return thumbnailer.fromFile(file, size);
}

describe('Property 16: image thumbnail dimensions', () => {
  it('is exactly THUMBNAIL_SIZE×THUMBNAIL_SIZE, a 3-channel sRGB JPEG, for any size, format and channel count', async () => {
    const dimensions = fc
      .tuple(fc.integer({ min: 1, max: 4000 }), fc.integer({ min: 1, max: 4000 }))
      .filter(([width, height]) => width * height <= MAX_GENERATED_PIXELS);
    await fc.assert(
      fc.asyncProperty(dimensions, formats, channelCounts, thumbnailSizes, async ([width, height], format, channels, size) => {
        const thumbnail = await thumbnailOf(width, height, channels, format, size);
        const metadata = await sharp(thumbnail).metadata();
        expect({
          format: metadata.format,
          width: metadata.width,
          height: metadata.height,
          channels: metadata.channels,
          space: metadata.space,
        }).toEqual({
          format: 'jpeg',
          width: size,
          height: size,
          channels: 3,
          space: 'srgb',
        });
      }),
      {
        numRuns: 100,
        examples: [
          [[1, 4000], 'png', 3, 128],
          [[4000, 1], 'jpeg', 1, 128],
          [[1, 1], 'gif', 4, 2048],
          [[4000, 750], 'webp', 2, 16],
          [[3, 2], 'jpeg', 3, 2048],
        ],
      },
    );
  }, 60_000);
});

describe('Property 17: aspect ratio preserved by cover crop', () => {
  it('shows exactly the centred square of the source, scaled evenly on both axes (thumbnail and thumbnail2x)', async () => {
    // Short side ≥ 32 so the target's frame (a quarter of it) survives resampling; up to 1:125.
    const dimensions = fc
      .integer({ min: 32, max: 600 })
      .chain((short) =>
        fc.tuple(
          fc.constant(short),
          fc.integer({ min: short, max: Math.min(4000, Math.floor(MAX_GENERATED_PIXELS / short)) }),
          fc.boolean(),
        ),
      )
      .map(([short, long, landscape]): [number, number] => (landscape ? [long, short] : [short, long]));
    await fc.assert(
      fc.asyncProperty(dimensions, formats, channelCounts, thumbnailSizes, async ([width, height], format, channels, size) => {
        const file = await files.write(`source.${format}`, await encode(coverTarget(width, height, channels), format));
        const { thumbnail, thumbnail2x } = await thumbnailer.renditions(file, thumbnailer.sizes(size));
        expect(await coverProblems(thumbnail.data, { width, height, channels })).toEqual([]);
        expect(await coverProblems(thumbnail2x.data, { width, height, channels })).toEqual([]);
      }),
      {
        numRuns: 100,
        examples: [
          [[4000, 32], 'jpeg', 3, 128],
          [[32, 4000], 'png', 4, 128],
          [[600, 540], 'webp', 1, 128],
          [[300, 600], 'gif', 2, 2048],
          [[33, 32], 'jpeg', 3, 16],
          [[32, 3997], 'webp', 3, 128],
        ],
      },
    );
  }, 60_000);

  // The property must be able to fail: the same check rejects what other fits produce.
  it.each([
    ['fill', { fit: 'fill' }],
    ['contain', { fit: 'contain' }],
    ['cover from the left/top', { fit: 'cover', position: 'left top' }],
    ['inside, padded square', { fit: 'inside' }],
  ] as const)('its check rejects %s', async (_name, options) => {
    for (const [width, height] of [
      [600, 300],
      [300, 340],
      [1000, 100],
    ]) {
      const source = await encode(coverTarget(width, height, 3), 'png');
      const resized = await sharp(source).resize(128, 128, options).png().toBuffer();
      const square = await sharp(resized)
        .resize(128, 128, { fit: 'contain', background: '#ffffff' })
        .flatten({ background: '#ffffff' })
        .jpeg()
        .toBuffer();
      expect(await coverProblems(square, { width, height, channels: 3 })).not.toEqual([]);
    }
  });
});
