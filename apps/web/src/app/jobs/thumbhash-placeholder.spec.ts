import { rgbaToThumbHash } from 'thumbhash';
import { thumbhashBackground, thumbhashDataUrl } from './thumbhash-placeholder';

/** A ThumbHash as the worker makes it: of a small image, base64. */
function hashOf(r: number, g: number, b: number): string {
  const rgba = new Uint8Array(16 * 16 * 4);
  for (let i = 0; i < rgba.length; i += 4) rgba.set([r, g, b, 255], i);
  return Buffer.from(rgbaToThumbHash(16, 16, rgba)).toString('base64');
}

describe('thumbhashDataUrl', () => {
  it('decodes a ThumbHash into a PNG data URL, the same one each time', () => {
    const hash = hashOf(200, 40, 40);
    const url = thumbhashDataUrl(hash);
    expect(url).toMatch(/^data:image\/png;base64,/);
    expect(thumbhashDataUrl(hash)).toBe(url);
    expect(thumbhashBackground(hash)).toBe(`url(${url})`);
  });

  it('gives nothing for nothing, and for what is not a ThumbHash', () => {
    expect(thumbhashDataUrl(null)).toBeNull();
    expect(thumbhashDataUrl('%%%')).toBeNull();
    expect(thumbhashDataUrl('AAA=')).toBeNull();
    expect(thumbhashBackground(null)).toBeNull();
  });
});
