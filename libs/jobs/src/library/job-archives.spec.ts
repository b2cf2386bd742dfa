import fc from 'fast-check';
import { EntryNames, entryName } from './job-archives';

describe('zip entry names', () => {
  it('keeps the last path segment only, without control characters, leading dots or reserved characters', () => {
    expect(entryName('../../etc/passwd', 'originals')).toBe('passwd');
    expect(entryName('..\\..\\win.ini', 'originals')).toBe('win.ini');
    expect(entryName('a\u0000b\u001f\u007f.jpg', 'originals')).toBe('ab.jpg');
    expect(entryName('..', 'originals')).toBe('file');
    expect(entryName('.hidden.png', 'thumbnails')).toBe('hidden.jpg');
    expect(entryName('what?<>:"|*.jpg', 'originals')).toBe('what_______.jpg');
    expect(entryName('clip.mp4', 'thumbnails')).toBe('clip.jpg');
    expect(entryName('noext', 'thumbnails')).toBe('noext.jpg');
    // Cut at 200 characters, never inside a surrogate pair (an emoji is one character).
    const long = entryName(`${'a'.repeat(199)}😀😀.jpg`, 'originals');
    expect(long).toBe(`${'a'.repeat(199)}😀`);
    expect(Buffer.from(long, 'utf8').toString('utf8')).toBe(long);
  });

  it('property: no name escapes the archive root, is empty, or is handed out twice (ignoring case)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.string({ unit: 'binary', maxLength: 40 }), { maxLength: 30 }),
        fc.constantFrom<'thumbnails' | 'originals'>('thumbnails', 'originals'),
        (originals, content) => {
          const names = new EntryNames();
          const given = originals.map((original) => names.next(entryName(original, content)));
          for (const name of given) {
            expect(name.length).toBeGreaterThan(0);
            // eslint-disable-next-line no-control-regex -- control characters are what must not be there
            expect(name).not.toMatch(/[\\/\u0000-\u001f]/);
            expect(name.startsWith('.')).toBe(false);
          }
          expect(new Set(given.map((name) => name.toLowerCase())).size).toBe(given.length);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('numbers repeats before the extension: a.jpg, A (2).jpg, a (3).jpg', () => {
    const names = new EntryNames();
    expect(['a.jpg', 'A.jpg', 'a.jpg', 'a (2).jpg', 'b'].map((name) => names.next(name))).toEqual([
      'a.jpg',
      'A (2).jpg',
      'a (3).jpg',
      'a (2) (2).jpg',
      'b',
    ]);
  });
});
