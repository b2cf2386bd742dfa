import sharp from 'sharp';
import { loadConfig } from '@app/core';
import {
  animation,
  builtinIccProfile,
  colourDistance,
  createTempDir,
  displayP3ToSrgb,
  encode,
  encodePng,
  EXIF_GPS_IFD_POINTER,
  exifIfd0Tags,
  jpegSegments,
  measure,
  orientedJpeg,
  ORIENTATIONS,
  pseudoRandomBytes,
  quadrants,
  readPixels,
  type Rgb,
  type TempDir,
  toSharp,
  withExtraneousBytes,
  withJpegIccProfile,
  withPngIccProfile,
} from '@test/support/image-fixtures';
import { ImageThumbnailer } from './image-thumbnailer';

/** Real-world files: orientation, colour management, bit depths, transparency, animation, size. */

// Real decoders on a shared 2-core machine: allow for a busy moment rather than flake at 5 s.
jest.setTimeout(30_000);

const SIZE = 128;
const thumbnailer = new ImageThumbnailer(loadConfig({ NODE_ENV: 'test', JWT_SECRET: 'image-thumbnailer-spec-secret-0123456789' }));
const RED: Rgb = [230, 20, 20];
const GREEN: Rgb = [20, 200, 40];
const BLUE: Rgb = [30, 40, 220];

let files: TempDir;
beforeAll(async () => {
  files = await createTempDir('thumbs-image-formats-');
});
afterAll(() => files.remove());

async function thumbnail(data: Buffer, name: string): Promise<Buffer> {
  return thumbnailer.fromFile(await files.write(name, data), SIZE);
}

/** Mean colour of each quadrant's middle (a 9×9 patch, away from the boundaries). */
async function quadrantColours(jpeg: Buffer): Promise<number[][]> {
  const pixels = await readPixels(jpeg);
  const [a, b] = [pixels.width / 4, (3 * pixels.width) / 4];
  return [pixels.mean(a, a, 4), pixels.mean(b, a, 4), pixels.mean(a, b, 4), pixels.mean(b, b, 4)];
}

function expectColours(actual: number[][], expected: readonly (readonly number[])[], tolerance: number): void {
  const distances = actual.map((colour, i) => colourDistance(colour, expected[i]));
  expect({ actual, distances }).toEqual({ actual, distances: distances.map((d) => (d <= tolerance ? d : `> ${tolerance}`)) });
}

describe('EXIF orientation', () => {
  // Upright: red top-left, green top-right, blue bottom half; 3:2 so 5–8 also swap the dimensions.
  const upright = quadrants(96, 64, [RED, GREEN, BLUE, BLUE]);

  it.each(ORIENTATIONS)('orientation %i is shown upright', async (orientation) => {
    const jpeg = await orientedJpeg(upright, orientation);
    const stored = await sharp(jpeg).metadata();
    expect({ orientation: stored.orientation, width: stored.width }).toEqual({ orientation, width: orientation >= 5 ? 64 : 96 });

    const pixels = await readPixels(await thumbnail(jpeg, `orientation-${orientation}.jpg`));
    const seen = [pixels.mean(SIZE / 4, SIZE / 4), pixels.mean((3 * SIZE) / 4, SIZE / 4), pixels.mean(SIZE / 2, (3 * SIZE) / 4)];
    expectColours(seen, [RED, GREEN, BLUE], 24);
  });
});

describe('colour management', () => {
  // Inside the built-in CMYK profile's gamut; the last one needs black ink (K).
  const inGamut: [Rgb, Rgb, Rgb, Rgb] = [
    [180, 90, 70],
    [70, 120, 160],
    [120, 150, 60],
    [70, 60, 50],
  ];

  it.each([
    ['with its ICC profile embedded', true],
    ['without a profile (the default CMYK profile is assumed)', false],
  ])('reads a CMYK JPEG %s as the right sRGB colours', async (_name, embedded) => {
    const source = toSharp(quadrants(64, 64, inGamut));
    const cmyk = await (embedded ? source.withIccProfile('cmyk') : source.toColourspace('cmyk'))
      .jpeg({ quality: 100, chromaSubsampling: '4:4:4' })
      .toBuffer();
    const metadata = await sharp(cmyk).metadata();
    expect({ space: metadata.space, channels: metadata.channels, hasProfile: metadata.hasProfile }).toEqual({
      space: 'cmyk',
      channels: 4,
      hasProfile: embedded,
    });

    const seen = await quadrantColours(await thumbnail(cmyk, 'cmyk.jpg'));
    // sRGB → press CMYK → sRGB is not exact (perceptual rendering), but inverted ink (Adobe CMYK),
    // CMY read as RGB or K read as alpha would be off by far more than 30.
    expectColours(seen, inGamut, 30);
    // And the thumbnail path adds no error of its own to lcms' conversion of the full-size image.
    const fullSize = await readPixels(await sharp(cmyk).toColourspace('srgb').png().toBuffer());
    expectColours(seen, [fullSize.at(16, 16), fullSize.at(48, 16), fullSize.at(16, 48), fullSize.at(48, 48)], 4);
  });

  // Pixel values as stored in a Display P3 file; the saturated red is outside sRGB, the others inside.
  const p3Values: [Rgb, Rgb, Rgb, Rgb] = [
    [230, 40, 30],
    [180, 120, 90],
    [0, 200, 80],
    [90, 80, 200],
  ];
  const expected = p3Values.map(displayP3ToSrgb);

  it('the reference conversion is far from reading P3 values as sRGB (so the test can fail)', () => {
    expect(colourDistance(expected[0], p3Values[0])).toBeGreaterThan(20);
    expect(colourDistance(expected[2], p3Values[2])).toBeGreaterThan(20);
  });

  it('converts a Display P3 JPEG to sRGB', async () => {
    const plain = await toSharp(quadrants(64, 64, p3Values))
      .jpeg({ quality: 100, chromaSubsampling: '4:4:4' })
      .toBuffer();
    const tagged = withJpegIccProfile(plain, await builtinIccProfile('p3'));
    expect((await sharp(tagged).metadata()).hasProfile).toBe(true);

    expectColours(await quadrantColours(await thumbnail(tagged, 'p3.jpg')), expected, 6);
  });

  it('converts a Display P3 PNG (iCCP chunk) to sRGB', async () => {
    const plain = await toSharp(quadrants(64, 64, p3Values))
      .png()
      .toBuffer();
    const tagged = withPngIccProfile(plain, await builtinIccProfile('p3'), 'Display P3');
    expect((await sharp(tagged).metadata()).hasProfile).toBe(true);

    expectColours(await quadrantColours(await thumbnail(tagged, 'p3.png')), expected, 6);
  });
});

describe('bit depths and transparency (flattened onto white)', () => {
  const quadrant = (x: number, y: number): number => (y < 32 ? 0 : 2) + (x < 32 ? 0 : 1);

  it('reads a 16-bit RGB PNG', async () => {
    const colours = [
      [0xe600, 0x1400, 0x1400],
      [0x1400, 0xc8ff, 0x2800],
      [0x1e00, 0x2800, 0xdcff],
      [0x8000, 0x8000, 0x8000],
    ];
    const png = encodePng({ width: 64, height: 64, colourType: 2, bitDepth: 16, sample: (x, y) => colours[quadrant(x, y)] });
    expect((await sharp(png).metadata()).space).toBe('rgb16');

    expectColours(await quadrantColours(await thumbnail(png, 'rgb16.png')), [RED, GREEN, BLUE, [128, 128, 128]], 4);
  });

  it('flattens a 16-bit RGBA PNG: transparent → white, half-transparent red → pink', async () => {
    const colours = [
      [0, 0, 0, 0],
      [0xffff, 0, 0, 0x8000],
      [0x1e00, 0x2800, 0xdcff, 0xffff],
      [0xffff, 0, 0, 0xffff],
    ];
    const png = encodePng({ width: 64, height: 64, colourType: 6, bitDepth: 16, sample: (x, y) => colours[quadrant(x, y)] });

    expectColours(await quadrantColours(await thumbnail(png, 'rgba16.png')), [[255, 255, 255], [255, 128, 128], BLUE, [255, 0, 0]], 5);
  });

  it('flattens a greyscale + alpha PNG', async () => {
    const samples = [
      [0, 0],
      [40, 128],
      [40, 255],
      [200, 255],
    ];
    const png = encodePng({ width: 64, height: 64, colourType: 4, bitDepth: 8, sample: (x, y) => samples[quadrant(x, y)] });
    const metadata = await sharp(png).metadata();
    expect({ space: metadata.space, channels: metadata.channels }).toEqual({ space: 'b-w', channels: 2 });

    const grey = (v: number): Rgb => [v, v, v];
    expectColours(await quadrantColours(await thumbnail(png, 'grey-alpha.png')), [grey(255), grey(148), grey(40), grey(200)], 4);
  });

  it('flattens a palette PNG with a tRNS chunk', async () => {
    const png = encodePng({
      width: 64,
      height: 64,
      colourType: 3,
      bitDepth: 8,
      sample: (x, y) => [quadrant(x, y)],
      palette: [
        [0, 0, 0],
        [255, 0, 0],
        [0, 0, 255],
        [0, 255, 0],
      ],
      paletteAlpha: [0, 255, 255, 128],
    });
    expect((await sharp(png).metadata()).isPalette).toBe(true);

    expectColours(
      await quadrantColours(await thumbnail(png, 'palette.png')),
      [
        [255, 255, 255],
        [255, 0, 0],
        [0, 0, 255],
        [127, 255, 127],
      ],
      5,
    );
  });

  it('flattens an RGBA PNG whose transparent pixels hold black', async () => {
    const colours = [
      [0, 0, 0, 0],
      [255, 0, 0, 128],
      [0, 0, 0, 255],
      [255, 0, 0, 255],
    ];
    const png = encodePng({ width: 64, height: 64, colourType: 6, bitDepth: 8, sample: (x, y) => colours[quadrant(x, y)] });

    expectColours(
      await quadrantColours(await thumbnail(png, 'rgba.png')),
      [
        [255, 255, 255],
        [255, 127, 127],
        [0, 0, 0],
        [255, 0, 0],
      ],
      5,
    );
  });
});

describe('animations', () => {
  it.each(['gif', 'webp'] as const)('an animated %s gives its first frame, square', async (format) => {
    const data = await animation(format, [RED, GREEN, BLUE], 160, 120);
    expect((await sharp(data).metadata()).pages).toBe(3);

    const jpeg = await thumbnail(data, `animation.${format}`);
    const metadata = await sharp(jpeg).metadata();
    expect([metadata.width, metadata.height]).toEqual([SIZE, SIZE]);
    // A strip of all frames would show the second (green) frame in its centre.
    const pixels = await readPixels(jpeg);
    const seen = [pixels.mean(SIZE / 2, SIZE / 2), pixels.mean(4, 4), pixels.mean(SIZE - 5, SIZE - 5)];
    expectColours(seen, [RED, RED, RED], 12);
  });
});

describe('a 24 MP progressive JPEG (6000×4000)', () => {
  it('is thumbnailed in modest memory, with shrink-on-load', async () => {
    // A smooth, photo-like texture (noise, upscaled), so entropy decoding costs about what a photo's does.
    const texture = toSharp({ width: 600, height: 400, channels: 3, data: pseudoRandomBytes(600 * 400 * 3, 24) });
    const progressive = await texture.resize(6000, 4000, { kernel: 'cubic' }).jpeg({ quality: 85, progressive: true }).toBuffer();
    const file = await files.write('24mp-progressive.jpg', progressive);
    const metadata = await sharp(file).metadata();
    expect({ width: metadata.width, height: metadata.height, isProgressive: metadata.isProgressive }).toEqual({
      width: 6000,
      height: 4000,
      isProgressive: true,
    });
    const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;

    sharp.cache(false);
    try {
      const first = await measure(() => thumbnailer.fromFile(file, SIZE));
      expect((await sharp(first.result).metadata()).width).toBe(SIZE);
      // Decoded at full size the pixels alone are 69 MiB (6000×4000×3); a progressive JPEG's DCT
      // coefficients are buffered whole (~69 MiB at 4:2:0) whatever the output size.
      expect(first.peakRssGrowth).toBeLessThan(160 * 2 ** 20);

      // Timing only, never asserted: the thumbnail against the same resize after a crop of the whole
      // image, which rules out shrink-on-load (a full decode). Progressive files gain little (their
      // cost is entropy decoding), baseline ones a lot.
      const baseline = await files.write('24mp-baseline.jpg', await sharp(progressive).jpeg({ quality: 85 }).toBuffer());
      const ratios: string[] = [];
      for (const [kind, input] of [
        ['progressive', file],
        ['baseline', baseline],
      ] as const) {
        const thumb = await measure(() => thumbnailer.fromFile(input, SIZE));
        const full = await measure(() =>
          sharp(input, { sequentialRead: true })
            .extract({ left: 0, top: 0, width: 6000, height: 4000 })
            .resize(SIZE, SIZE, { fit: 'cover' })
            .jpeg()
            .toBuffer(),
        );
        ratios.push(
          `${kind}: thumbnail ${thumb.ms.toFixed(0)} ms vs full decode ${full.ms.toFixed(0)} ms (ratio ${(thumb.ms / full.ms).toFixed(2)})`,
        );
      }
      console.log(
        `24 MP JPEG (${mib(progressive.length)}): first thumbnail peak RSS +${mib(first.peakRssGrowth)} in ${first.ms.toFixed(0)} ms; ${ratios.join('; ')}`,
      );
    } finally {
      sharp.cache(true);
    }
  }, 60_000);
});

describe('output', () => {
  it('is a clean baseline sRGB JPEG: no EXIF, GPS, XMP or ICC data from the photo', async () => {
    const photo = await toSharp(quadrants(300, 200, [RED, GREEN, BLUE, BLUE]))
      .withExif({
        IFD0: { Make: 'PhoneCo', Model: 'Secret X1', Artist: 'Jane Doe' },
        IFD3: { GPSLatitudeRef: 'N', GPSLatitude: '48/1 51/1 2987/100', GPSLongitudeRef: 'E', GPSLongitude: '2/1 17/1 4053/100' },
      })
      .withXmp('<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"/></x:xmpmeta>')
      .jpeg({ progressive: true })
      .toBuffer();
    const input = await sharp(photo).metadata();
    expect(exifIfd0Tags(input.exif ?? Buffer.alloc(0))).toContain(EXIF_GPS_IFD_POINTER);
    expect(input.xmp).toBeDefined();

    const jpeg = await thumbnail(photo, 'gps.jpg');
    const markers = jpegSegments(jpeg).map((segment) => segment.marker);
    expect(markers).toContain(0xc0); // SOF0: baseline
    expect(markers.filter((marker) => marker >= 0xc1 && marker <= 0xcf && ![0xc4, 0xc8, 0xcc].includes(marker))).toEqual([]);
    expect(markers.filter((marker) => marker >= 0xe1 && marker <= 0xef)).toEqual([]); // no APP1 (EXIF/XMP) … APP15
    expect(jpeg.includes('PhoneCo')).toBe(false);
    expect(jpeg.includes('Jane Doe')).toBe(false);
    const metadata = await sharp(jpeg).metadata();
    expect({
      format: metadata.format,
      space: metadata.space,
      channels: metadata.channels,
      isProgressive: metadata.isProgressive,
      exif: metadata.exif,
      icc: metadata.icc,
      xmp: metadata.xmp,
    }).toEqual({ format: 'jpeg', space: 'srgb', channels: 3, isProgressive: false, exif: undefined, icc: undefined, xmp: undefined });
  });

  it('is the same from a buffer as from a file', async () => {
    const png = await encode(quadrants(200, 120, [RED, GREEN, BLUE, BLUE]), 'png');
    const fromBuffer = await thumbnailer.fromBuffer(png, SIZE);
    const fromFile = await thumbnail(png, 'same.png');
    expect(await quadrantColours(fromBuffer)).toEqual(await quadrantColours(fromFile));
  });
});

describe('JPEG warnings (failOn)', () => {
  // libjpeg warns "Corrupt JPEG data: 3 extraneous bytes before marker"; browsers show such files.
  it('thumbnails a JPEG with stray bytes between segments', async () => {
    const jpeg = withExtraneousBytes(await encode(quadrants(96, 64, [RED, GREEN, BLUE, BLUE]), 'jpeg'));
    await expect(sharp(jpeg, { failOn: 'warning' }).toBuffer()).rejects.toThrow(/extraneous bytes/);

    const pixels = await readPixels(await thumbnail(jpeg, 'extraneous.jpg'));
    expectColours([pixels.mean(SIZE / 4, SIZE / 4)], [RED], 24);
  });
});
