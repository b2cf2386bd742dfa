import fc from 'fast-check';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import sharp from 'sharp';
import { ACCEPTED_MEDIA } from '@app/shared';
import { classifyUpload, detectMedia, sanitiseFilename, SNIFF_BYTES } from './detect-media';

const ftyp = (major: string, ...compatible: string[]): Buffer => {
  const body = Buffer.from(`ftyp${major}\0\0\0\0${compatible.join('')}`, 'latin1');
  const size = Buffer.alloc(4);
  size.writeUInt32BE(body.length + 4);
  return Buffer.concat([size, body]);
};
const ebml = (docType: string) =>
  Buffer.concat([Buffer.from([0x1a, 0x45, 0xdf, 0xa3, 0x9f, 0x42, 0x82, docType.length | 0x80]), Buffer.from(docType)]);
/** Two MPEG-TS packets (sync byte 0x47 every 188 bytes; 192 with the 4-byte timecode of .m2ts). */
const transportStream = (packet: 188 | 192) => {
  const data = Buffer.alloc(packet * 3);
  for (let i = 0; i < 3; i++) data[i * packet + (packet - 188)] = 0x47;
  return data;
};
const bmp = () => {
  const head = Buffer.alloc(54);
  head.write('BM', 0, 'latin1');
  head.writeUInt32LE(40, 14);
  return head;
};

/** A PNG signature and its IHDR chunk (file-type reads the chunks, as a decoder would). */
const pngHead = Buffer.concat([
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]),
  Buffer.from('IHDR\0\0\0\x10\0\0\0\x10\x08\x02\0\0\0\0\0\0\0', 'latin1'),
]);

const SIGNATURES: [string, Buffer][] = [
  ['jpeg', Buffer.from([0xff, 0xd8, 0xff, 0xdb])],
  ['png', pngHead],
  ['gif', Buffer.from('GIF87a')],
  ['webp', Buffer.from('RIFF\0\0\0\0WEBPVP8L', 'latin1')],
  ['avif', ftyp('avif', 'mif1', 'avif', 'miaf')],
  ['avif', ftyp('mif1', 'mif1', 'avif')],
  ['heic', ftyp('heic', 'mif1', 'heic')],
  ['heic', ftyp('mif1', 'mif1', 'heic')],
  ['tiff', Buffer.from('II*\0\x08\0\0\0', 'latin1')],
  ['tiff', Buffer.from('MM\0*\0\0\0\x08', 'latin1')],
  ['bmp', bmp()],
  ['avi', Buffer.from('RIFF\0\0\0\0AVI LIST', 'latin1')],
  ['mp4', ftyp('isom', 'isom', 'iso2', 'avc1', 'mp41')],
  ['mov', ftyp('qt  ', 'qt  ')],
  ['mov', Buffer.from('\0\0\0\x08wide\0\0\0\x10mdat', 'latin1')],
  ['webm', ebml('webm')],
  ['mkv', ebml('matroska')],
  ['mpegts', transportStream(188)],
  ['mpegts', transportStream(192)],
  ['3gp', ftyp('3gp4', 'isom', '3gp4')],
];

describe('detectMedia', () => {
  it.each(SIGNATURES)('recognises %s by its leading bytes', async (kind, head) => {
    await expect(detectMedia(Buffer.concat([head, Buffer.alloc(64)]))).resolves.toEqual({ accepted: true, kind });
  });

  it.each([
    ['a PDF document', Buffer.from('%PDF-1.4\n%âãÏÓ\n1 0 obj', 'latin1')],
    ['an SVG image', Buffer.from('<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"/>')],
    ['an SVG image', Buffer.from('\ufeff<svg xmlns="http://www.w3.org/2000/svg"/>')],
    ['an SVG image', Buffer.from('<!-- Generator: Adobe Illustrator 27 -->\n<svg version="1.1">')],
    [
      'an SVG image',
      Buffer.from(
        '<?xml version="1.0"?>\n<!DOCTYPE svg [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n<?xml-stylesheet href="a.css"?>\n<svg>&xxe;</svg>',
      ),
    ],
    [
      'an SVG image',
      Buffer.from('<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd">\n<svg/>'),
    ],
    [
      'an MPEG program stream (.mpg, .vob: convert it to MP4 or MPEG-TS)',
      Buffer.from([0x00, 0x00, 0x01, 0xba, 0x44, 0x00, 0x04, 0x00, 0x04, 0x01, 0x01, 0x89, 0xc3, 0xf8]),
    ],
    ['a WAV audio file', Buffer.from('RIFF\0\0\0\0WAVEfmt \x10\0\0\0', 'latin1')],
    ['a ZIP archive', Buffer.from('PK\x03\x04\x14\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\x01\0a', 'latin1')],
    ['a Canon RAW image', ftyp('crx ', 'crx ', 'isom')],
  ])('names what it is when it is %s', async (description, head) => {
    await expect(detectMedia(Buffer.concat([head, Buffer.alloc(64)]))).resolves.toEqual({ accepted: false, description });
  });

  it('takes an MPEG transport stream cut anywhere in a packet (a recording from a broadcast) as MPEG-TS, from ffmpeg', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'thumbs-ts-'));
    try {
      const ts = path.join(dir, 'clip.ts');
      execFileSync('ffmpeg', [
        '-v',
        'error',
        '-f',
        'lavfi',
        '-i',
        'testsrc2=s=64x48:r=10',
        '-t',
        '1',
        '-c:v',
        'libx264',
        '-f',
        'mpegts',
        ts,
      ]);
      const m2ts = path.join(dir, 'clip.m2ts');
      execFileSync('ffmpeg', ['-v', 'error', '-i', ts, '-c', 'copy', '-mpegts_m2ts_mode', '1', '-f', 'mpegts', m2ts]);
      for (const [file, packet] of [
        [ts, 188],
        [m2ts, 192],
      ] as const) {
        const data = fs.readFileSync(file);
        for (const cut of [0, 1, 100, packet - 1, 5 * packet + 17]) {
          const head = data.subarray(cut, cut + SNIFF_BYTES);
          await expect(detectMedia(head)).resolves.toEqual({ accepted: true, kind: 'mpegts' });
        }
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
    // Sync bytes too few times in a row are not a stream, nor is a run of them (text of capital Gs).
    const almost = Buffer.alloc(SNIFF_BYTES, 0x20);
    for (let i = 0; i < 15; i++) almost[50 + i * 188] = 0x47;
    await expect(detectMedia(almost)).resolves.toEqual({ accepted: false, description: null });
    // (Away from offsets 0 and 4, where file-type's own check, a sync byte there and a packet on, takes it.)
    const text = Buffer.alloc(SNIFF_BYTES, 'G');
    text.fill(0x20, 0, 100);
    await expect(detectMedia(text)).resolves.toEqual({ accepted: false, description: null });
  });

  it('takes "BM" for a BMP only when a DIB header follows', async () => {
    await expect(detectMedia(Buffer.from('BMW owners club: minutes of the meeting'))).resolves.toEqual({
      accepted: false,
      description: null,
    });
  });

  it('takes a file that starts with a PNG, JPEG or GIF signature followed by garbage as that (damaged) format', async () => {
    const signatures: [string, Buffer][] = [
      ['png', pngHead.subarray(0, 8)],
      // SOI and an APP0 marker, as real JPEGs start (FF D8 FF F7 would be JPEG-LS, another format).
      ['jpeg', Buffer.from([0xff, 0xd8, 0xff, 0xe0])],
      ['gif', Buffer.from('GIF89a', 'latin1')],
    ];
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...signatures),
        fc.uint8Array({ minLength: 16, maxLength: 2048 }),
        async ([kind, signature], garbage) => {
          await expect(detectMedia(Buffer.concat([signature, Buffer.from(garbage)]))).resolves.toEqual({ accepted: true, kind });
        },
      ),
      { numRuns: 300 },
    );
  });

  it('takes a TIFF whose first directory lies past the sniffed bytes (after the pixels, where libvips writes it) as a TIFF', async () => {
    const blue = sharp({ create: { width: 300, height: 300, channels: 3, background: '#3366cc' } });
    const noise = sharp({
      create: { width: 200, height: 200, channels: 3, background: '#000000', noise: { type: 'gaussian', mean: 128, sigma: 60 } },
    });
    for (const tiff of [
      await blue.clone().tiff({ compression: 'none' }).toBuffer(),
      await noise.clone().tiff({ compression: 'deflate' }).toBuffer(),
      await blue.clone().tiff({ compression: 'none', bigtiff: true }).toBuffer(),
    ]) {
      expect(tiff.length).toBeGreaterThan(SNIFF_BYTES);
      await expect(detectMedia(tiff.subarray(0, SNIFF_BYTES))).resolves.toEqual({ accepted: true, kind: 'tiff' });
      // As a tus client's first small PATCH delivers it.
      await expect(detectMedia(tiff.subarray(0, 1024))).resolves.toEqual({ accepted: true, kind: 'tiff' });
    }
    // Big-endian, directory far away.
    await expect(detectMedia(Buffer.from('MM\0*\0\x10\0\0', 'latin1'))).resolves.toEqual({ accepted: true, kind: 'tiff' });
  });

  it('accepts nothing that does not start with an accepted signature', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: 0, maxLength: 600 }), async (bytes) => {
        const head = Buffer.from(bytes);
        const detection = await detectMedia(head);
        if (detection.accepted) {
          const starts = (prefix: Buffer | string, at = 0) =>
            head.subarray(at, at + prefix.length).equals(Buffer.from(prefix as string, 'latin1'));
          const known =
            starts(Buffer.from([0xff, 0xd8, 0xff])) ||
            starts(pngHead.subarray(0, 8)) ||
            starts('GIF8') ||
            starts('RIFF') ||
            starts('ftyp', 4) ||
            starts('II*\0') ||
            starts('MM\0*') ||
            starts('II+\0') ||
            starts('MM\0+') ||
            starts('BM') ||
            head[0] === 0x47 ||
            head[4] === 0x47 ||
            ['moov', 'mdat', 'wide', 'free', 'skip', 'pnot'].some((atom) => starts(atom, 4)) ||
            starts(Buffer.from([0x1a, 0x45, 0xdf, 0xa3]));
          expect(known).toBe(true);
        }
      }),
      { numRuns: 1000 },
    );
  });
});

describe('classifyUpload', () => {
  const jpeg = Buffer.concat([SIGNATURES[0][1], Buffer.alloc(100)]);
  const png = Buffer.concat([SIGNATURES[1][1], Buffer.alloc(100)]);
  const mkv = Buffer.concat([ebml('matroska'), Buffer.alloc(100)]);

  it('accepts content whose name and declared type agree or say nothing', async () => {
    for (const [filename, declaredType] of [
      ['a.jpg', 'image/jpeg'],
      ['a.JPEG', 'image/jpg'],
      ['a.jfif', 'application/octet-stream'],
      ['no-extension', ''],
    ]) {
      await expect(classifyUpload({ head: jpeg, filename, declaredType, size: 100 })).resolves.toMatchObject({
        accepted: true,
        media: { kind: 'jpeg' },
      });
    }
    const mov = Buffer.concat([ftyp('qt  ', 'qt  '), Buffer.alloc(64)]);
    await expect(classifyUpload({ head: mov, filename: 'clip.mp4', declaredType: 'video/mp4', size: 100 })).resolves.toMatchObject({
      accepted: true,
    });
  });

  it('lets the content decide between accepted formats of the same kind: a PNG named .jpg is a PNG', async () => {
    await expect(classifyUpload({ head: png, filename: 'photo.jpg', declaredType: 'image/jpeg', size: 100 })).resolves.toMatchObject({
      accepted: true,
      media: { kind: 'png', mimeType: 'image/png' },
    });
    await expect(classifyUpload({ head: mkv, filename: 'screen.mp4', declaredType: 'video/mp4', size: 100 })).resolves.toMatchObject({
      accepted: true,
      media: { kind: 'mkv' },
    });
    const heic = Buffer.concat([ftyp('heic', 'mif1', 'heic'), Buffer.alloc(64)]);
    await expect(classifyUpload({ head: heic, filename: 'IMG_0001.HEIC', declaredType: 'image/heif', size: 100 })).resolves.toMatchObject({
      accepted: true,
      media: { kind: 'heic', fileType: 'image' },
    });
  });

  it('rejects empty files, unknown content, and content that disagrees with its name or type', async () => {
    await expect(classifyUpload({ head: Buffer.alloc(0), filename: 'a.jpg', declaredType: 'image/jpeg', size: 0 })).resolves.toMatchObject({
      accepted: false,
      code: 'empty',
    });
    await expect(classifyUpload({ head: Buffer.from('hello'), filename: 'a.jpg', declaredType: '', size: 5 })).resolves.toMatchObject({
      accepted: false,
      code: 'unsupported_type',
    });
    await expect(classifyUpload({ head: png, filename: 'clip.mp4', declaredType: '', size: 100 })).resolves.toMatchObject({
      accepted: false,
      code: 'type_mismatch',
      message: '“clip.mp4” is a PNG image but is named .mp4. Rename it to .png if it really is PNG.',
    });
    await expect(classifyUpload({ head: mkv, filename: 'still.jpg', declaredType: '', size: 100 })).resolves.toMatchObject({
      accepted: false,
      code: 'type_mismatch',
      message: '“still.jpg” is an MKV video but is named .jpg. Rename it to .mkv if it really is MKV.',
    });
    await expect(classifyUpload({ head: png, filename: 'a.png', declaredType: 'video/mp4', size: 100 })).resolves.toMatchObject({
      accepted: false,
      code: 'type_mismatch',
      message: '“a.png” was sent as video/mp4 but is a PNG image.',
    });
    await expect(classifyUpload({ head: jpeg, filename: 'a.jpg', declaredType: 'text/html', size: 100 })).resolves.toMatchObject({
      accepted: false,
      code: 'type_mismatch',
    });
    await expect(classifyUpload({ head: jpeg, filename: 'index.html', declaredType: 'image/jpeg', size: 100 })).resolves.toMatchObject({
      accepted: false,
      code: 'type_mismatch',
    });
    const pdf = Buffer.from('%PDF-1.7\n%âãÏÓ\n1 0 obj\n<<>>\nendobj\n', 'latin1');
    await expect(classifyUpload({ head: pdf, filename: 'scan.jpg', declaredType: 'image/jpeg', size: 100 })).resolves.toMatchObject({
      accepted: false,
      code: 'unsupported_type',
      message: expect.stringContaining('“scan.jpg” is a PDF document, which is not supported.') as string,
    });
  });

  it('accepts every extension and declared type of the accepted formats for their own content kind', async () => {
    for (const media of Object.values(ACCEPTED_MEDIA)) {
      const [, head] = SIGNATURES.find(([kind]) => kind === media.kind)!;
      for (const extension of media.extensions) {
        const result = await classifyUpload({
          head: Buffer.concat([head, Buffer.alloc(64)]),
          filename: `f${extension}`,
          declaredType: media.mimeType,
          size: 100,
        });
        expect(result).toMatchObject({ accepted: true, media: { kind: media.kind } });
      }
    }
  });
});

describe('sanitiseFilename', () => {
  it('keeps a readable basename without path parts or control characters, at most 255 characters', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 400 }), (name) => {
        const clean = sanitiseFilename(name);
        expect(clean.length).toBeGreaterThan(0);
        expect(clean.length).toBeLessThanOrEqual(255);
        // eslint-disable-next-line no-control-regex -- control characters are exactly what a clean name must not hold
        expect(clean).not.toMatch(/[/\\\u0000-\u001f\u007f-\u009f\u2028\u2029\u200b\u202a-\u202e\u2066-\u2069\ufeff]/);
        expect(['.', '..']).not.toContain(clean);
      }),
      { numRuns: 1000 },
    );
    expect(sanitiseFilename('C:\\Users\\me\\Pictures\\cat.jpg')).toBe('cat.jpg');
    expect(sanitiseFilename('../../etc/passwd')).toBe('passwd');
    expect(sanitiseFilename('one\u2028two\u2029three\r\nfour\u0085.jpg')).toBe('one two three  four .jpg');
    expect(sanitiseFilename('in\u200bvis\ufeffi\u00adble\u061c\u202egpj.exe')).toBe('invisiblegpj.exe');
    expect(sanitiseFilename('family 👨\u200d👩\u200d👧.jpg')).toBe('family 👨\u200d👩\u200d👧.jpg');
    expect(sanitiseFilename(`${'a'.repeat(300)}.jpeg`)).toMatch(/^a{250}\.jpeg$/);
  });

  it('shortens a long name between characters, never inside an emoji, a surrogate pair or an accented letter', () => {
    const loneSurrogate = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
    fc.assert(
      fc.property(
        fc.string({ unit: 'grapheme', minLength: 100, maxLength: 400 }),
        fc.constantFrom('', '.png', '.jpeg'),
        (name, extension) => {
          const clean = sanitiseFilename(name + extension);
          expect(clean.length).toBeLessThanOrEqual(255);
          expect(clean).not.toMatch(loneSurrogate);
        },
      ),
      { numRuns: 500 },
    );
    const emoji = sanitiseFilename(`${'é漢🙂'.repeat(100)}.png`);
    expect(emoji).toBe(`${'é漢🙂'.repeat(62)}é漢.png`);
    expect(sanitiseFilename(`${'x'.repeat(245)}👨\u200d👩\u200d👧.gif`)).toBe(`${'x'.repeat(245)}.gif`);
    // Cut down to nothing but a dot or two: a name still.
    expect(sanitiseFilename(`.e${'\u0301'.repeat(300)}`)).toBe('file');
    expect(sanitiseFilename(`..e${'\u0301'.repeat(300)}`)).toBe('file');
    // One "character" longer than the limit (NFC makes its first two code points one): cut by code point, still a name.
    expect(sanitiseFilename(`e${'\u0301'.repeat(400)}.jpg`)).toBe(`\u00e9${'\u0301'.repeat(250)}.jpg`);
  });
});
