import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import fc from 'fast-check';
import sharp from 'sharp';
import { RAMP, rampGraph, rampMeanGrey } from '@test/support/video-fixtures';
import { MediaTools } from '../media-tools/media-tools';
import { FrameExtractor, splitPngs } from './frame-extractor';

const run = promisify(execFile);

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

describe('extractSeries: the first frame at or after each time, each frame once (real ffmpeg)', () => {
  let tools: MediaTools;
  let dir: string;
  let clip: string;
  beforeAll(async () => {
    tools = await MediaTools.resolve({ searchPath: process.env.PATH ?? '' });
    dir = await mkdtemp(path.join(os.tmpdir(), 'thumbs-series-'));
    clip = path.join(dir, 'ramp.mp4');
    // RAMP.maxFrames frames at 10 fps, each brighter than the one before, one keyframe.
    await run(tools.ffmpeg.path, [
      ...['-v', 'error', '-y', '-filter_complex', rampGraph(RAMP.maxFrames, 64, 48, 10), '-map', '[v]'],
      ...['-c:v', 'libx264', '-crf', '10', '-g', '250', clip],
    ]);
    // Finding the tools and encoding the clip: seconds on a busy machine, past Jest's 5 s default.
  }, 60_000);
  afterAll(() => rm(dir, { recursive: true, force: true }));

  /** Which ramp frame a PNG is, by its mean grey. */
  async function frameOf(png: Buffer): Promise<number> {
    const { channels } = await sharp(png).stats();
    const grey = (channels[0].mean + channels[1].mean + channels[2].mean) / 3;
    return Array.from({ length: RAMP.maxFrames }, (_, i) => i).reduce((best, i) =>
      Math.abs(rampMeanGrey(i) - grey) < Math.abs(rampMeanGrey(best) - grey) ? i : best,
    );
  }

  it('with or without an input seek, whatever the times (some within one frame, some past the end)', async () => {
    const extractor = new FrameExtractor(tools);
    await fc.assert(
      fc.asyncProperty(
        // Times half-way between frames (frame k shows from k/10 s), so none is on a frame's edge.
        fc.array(fc.integer({ min: 0, max: RAMP.maxFrames + 2 }), { minLength: 1, maxLength: 9 }),
        fc.boolean(),
        async (slots, seek) => {
          const sorted = [...slots].sort((a, b) => a - b);
          const times = sorted.map((slot) => (slot + 0.5) / 10);
          const frames = await extractor.extractSeries({
            file: clip,
            streamIndex: 0,
            seconds: seek ? times[0] : null,
            times,
            filters: [],
            threads: 1,
            maxBytes: 1024 * 1024,
            signal: new AbortController().signal,
          });
          const expected = [...new Set(sorted.map((slot) => slot + 1))].filter((frame) => frame < RAMP.maxFrames);
          expect(await Promise.all(frames.map(frameOf))).toEqual(expected);
        },
      ),
      {
        numRuns: 20,
        examples: [
          [[3, 3, 3], true],
          [[0, 1, 2, 3, 4, 5, 6, 7, 40], false],
          [[29, 30, 31], true],
        ],
      },
    );
  }, 60_000);
});
