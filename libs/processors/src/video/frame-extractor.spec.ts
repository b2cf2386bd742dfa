import sharp from 'sharp';
import { splitPngs } from './frame-extractor';

const png = (r: number, width: number): Promise<Buffer> =>
  sharp({ create: { width, height: 3, channels: 3, background: { r, g: 0, b: 0 } } })
    .png()
    .toBuffer();

describe('splitPngs (the frames of one ffmpeg run, written one after the other)', () => {
  it('gives each PNG back whole, in order', async () => {
    const frames = await Promise.all([png(10, 4), png(120, 7), png(250, 2)]);
    const split = splitPngs(Buffer.concat(frames));
    expect(split.map((part, i) => part.equals(frames[i]))).toEqual([true, true, true]);
    expect(await Promise.all(split.map(async (part) => (await sharp(part).metadata()).width))).toEqual([4, 7, 2]);
  });

  it('leaves out a last frame cut short, and anything that is not a PNG', async () => {
    const [one, two] = await Promise.all([png(10, 4), png(120, 7)]);
    expect(splitPngs(Buffer.concat([one, two.subarray(0, two.length - 5)]))).toEqual([one]);
    expect(splitPngs(Buffer.concat([one, Buffer.from('garbage after the frame')]))).toEqual([one]);
    expect(splitPngs(Buffer.from('not a png at all'))).toEqual([]);
    expect(splitPngs(Buffer.alloc(0))).toEqual([]);
  });
});
