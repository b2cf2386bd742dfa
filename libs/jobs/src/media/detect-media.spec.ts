import fc from 'fast-check';
import { classifyUpload, detectMedia, sanitiseFilename } from './detect-media';

const SIGNATURES: [string, Buffer][] = [
  ['jpeg', Buffer.from([0xff, 0xd8, 0xff, 0xdb])],
  ['png', Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])],
  ['gif', Buffer.from('GIF87a')],
  ['webp', Buffer.from('RIFF\0\0\0\0WEBPVP8L', 'latin1')],
  ['avi', Buffer.from('RIFF\0\0\0\0AVI LIST', 'latin1')],
  ['mp4', Buffer.from('\0\0\0\x20ftypisom\0\0\x02\0isomiso2avc1mp41', 'latin1')],
  ['mov', Buffer.from('\0\0\0\x14ftypqt  \0\0\x02\0qt  ', 'latin1')],
  ['mov', Buffer.from('\0\0\0\x08wide\0\0\0\x10mdat', 'latin1')],
  ['webm', Buffer.concat([Buffer.from([0x1a, 0x45, 0xdf, 0xa3, 0x9f, 0x42, 0x86, 0x81, 0x01, 0x42, 0x82, 0x84]), Buffer.from('webm')])],
];

describe('detectMedia', () => {
  it.each(SIGNATURES)('recognises %s by its leading bytes', (kind, head) => {
    expect(detectMedia(Buffer.concat([head, Buffer.alloc(64)]))).toEqual({ accepted: true, kind });
  });

  it.each([
    ['a Matroska (.mkv) video', Buffer.concat([Buffer.from([0x1a, 0x45, 0xdf, 0xa3, 0x9f, 0x42, 0x82, 0x88]), Buffer.from('matroska')])],
    ['a HEIC/HEIF image', Buffer.from('\0\0\0\x18ftypheic\0\0\0\0mif1heic', 'latin1')],
    ['a PDF document', Buffer.from('%PDF-1.4')],
    ['an SVG image', Buffer.from('<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"/>')],
    ['a WAV audio file', Buffer.from('RIFF\0\0\0\0WAVEfmt ', 'latin1')],
  ])('names what it is when it is %s', (description, head) => {
    expect(detectMedia(head)).toEqual({ accepted: false, description });
  });

  it('accepts nothing that does not start with an accepted signature', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 256 }), (bytes) => {
        const head = Buffer.from(bytes);
        const detection = detectMedia(head);
        if (detection.accepted) {
          const starts = (prefix: Buffer, at = 0) => head.subarray(at, at + prefix.length).equals(prefix);
          const known =
            starts(Buffer.from([0xff, 0xd8, 0xff])) ||
            starts(SIGNATURES[1][1]) ||
            starts(Buffer.from('GIF8')) ||
            starts(Buffer.from('RIFF')) ||
            starts(Buffer.from('ftyp'), 4) ||
            ['moov', 'mdat', 'wide', 'free', 'skip', 'pnot'].some((atom) => starts(Buffer.from(atom), 4)) ||
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

  it('accepts content whose name and declared type agree or say nothing', () => {
    for (const [filename, declaredType] of [
      ['a.jpg', 'image/jpeg'],
      ['a.JPEG', 'image/jpg'],
      ['a.jfif', 'application/octet-stream'],
      ['no-extension', ''],
    ]) {
      expect(classifyUpload({ head: jpeg, filename, declaredType, size: 100 })).toMatchObject({ accepted: true, media: { kind: 'jpeg' } });
    }
    const mov = Buffer.concat([SIGNATURES[6][1], Buffer.alloc(64)]);
    expect(classifyUpload({ head: mov, filename: 'clip.mp4', declaredType: 'video/mp4', size: 100 })).toMatchObject({ accepted: true });
  });

  it('rejects empty files, unknown content, and content that disagrees with its name or type', () => {
    expect(classifyUpload({ head: Buffer.alloc(0), filename: 'a.jpg', declaredType: 'image/jpeg', size: 0 })).toMatchObject({
      accepted: false,
      code: 'empty',
    });
    expect(classifyUpload({ head: Buffer.from('hello'), filename: 'a.jpg', declaredType: '', size: 5 })).toMatchObject({
      accepted: false,
      code: 'unsupported_type',
    });
    expect(classifyUpload({ head: jpeg, filename: 'a.png', declaredType: '', size: 100 })).toMatchObject({
      accepted: false,
      code: 'type_mismatch',
      message: '“a.png” contains JPEG data but is named .png. Rename it to .jpg if it really is JPEG.',
    });
    expect(classifyUpload({ head: jpeg, filename: 'a.jpg', declaredType: 'text/html', size: 100 })).toMatchObject({
      accepted: false,
      code: 'type_mismatch',
    });
    expect(classifyUpload({ head: jpeg, filename: 'index.html', declaredType: 'image/jpeg', size: 100 })).toMatchObject({
      accepted: false,
      code: 'type_mismatch',
    });
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
        expect(clean).not.toMatch(/[/\\\u0000-\u001f\u007f]/);
        expect(['.', '..']).not.toContain(clean);
      }),
      { numRuns: 1000 },
    );
    expect(sanitiseFilename('C:\\Users\\me\\Pictures\\cat.jpg')).toBe('cat.jpg');
    expect(sanitiseFilename('../../etc/passwd')).toBe('passwd');
    expect(sanitiseFilename(`${'a'.repeat(300)}.jpeg`)).toMatch(/^a{250}\.jpeg$/);
  });
});
