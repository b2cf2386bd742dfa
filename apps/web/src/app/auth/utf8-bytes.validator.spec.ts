import { FormControl } from '@angular/forms';
import fc from 'fast-check';
import { maxUtf8Bytes, utf8ByteLength } from './utf8-bytes.validator';

describe('maxUtf8Bytes', () => {
  const validator = maxUtf8Bytes(72);

  it('counts bytes, not characters', () => {
    expect(utf8ByteLength('a')).toBe(1);
    expect(utf8ByteLength('é')).toBe(2);
    expect(utf8ByteLength('😀')).toBe(4);
  });

  it('accepts 72 ASCII characters and refuses 73', () => {
    expect(validator(new FormControl('a'.repeat(72)))).toBeNull();
    expect(validator(new FormControl('a'.repeat(73)))).toEqual({ maxBytes: { max: 72, actual: 73 } });
  });

  it('refuses 19 emoji (76 bytes) although they are only 19 characters', () => {
    expect(validator(new FormControl('😀'.repeat(19)))).toEqual({ maxBytes: { max: 72, actual: 76 } });
  });

  it('agrees with the byte length the server computes, for any text', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 60 }), (text) => {
        const bytes = new TextEncoder().encode(text).length;
        expect(validator(new FormControl(text)) === null).toBe(bytes <= 72);
      }),
      { numRuns: 200 },
    );
  });
});
