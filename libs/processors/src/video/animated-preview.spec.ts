import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { MediaTools } from '../media-tools/media-tools';
import { chooseSampling, SEQUENTIAL_SAMPLING_SECONDS } from './animated-preview';
import { Ffprobe } from './ffprobe';

const run = promisify(execFile);
const samples = (duration: number): number[] => Array.from({ length: 8 }, (_, i) => (duration * (i + 0.5)) / 8);

describe('chooseSampling: one decoding pass or a seek per sample, whichever decodes less', () => {
  it('takes a pass when the keyframes are far apart (each seek would decode from the start again)', () => {
    expect(chooseSampling(samples(10), Array(8).fill(0), 10)).toBe('pass');
    expect(chooseSampling(samples(30), [0, 0, 0, 10, 10, 20, 20, 20], 30)).toBe('pass');
  });

  it('seeks when there is a keyframe close before every sample', () => {
    const times = samples(30);
    expect(chooseSampling(times, times.map(Math.floor), 30)).toBe('seeks');
    // A short clip too, when its keyframes are dense.
    const short = samples(8);
    expect(
      chooseSampling(
        short,
        short.map((time) => time - 0.1),
        8,
      ),
    ).toBe('seeks');
  });

  it('without keyframes, guesses from the length', () => {
    expect(chooseSampling(samples(10), undefined, 10)).toBe('pass');
    expect(chooseSampling(samples(SEQUENTIAL_SAMPLING_SECONDS), undefined, SEQUENTIAL_SAMPLING_SECONDS)).toBe('seeks');
    expect(chooseSampling(samples(10), [0, 1], 10)).toBe('pass');
  });
});

describe('Ffprobe.keyframesBefore (real ffprobe, no decoding)', () => {
  let tools: MediaTools;
  let dir: string;
  beforeAll(async () => {
    tools = await MediaTools.resolve({ searchPath: process.env.PATH ?? '' });
    dir = await mkdtemp(path.join(os.tmpdir(), 'thumbs-keyframes-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  /** 12 s at 10 fps, a keyframe every `gop` frames, in `container`. */
  async function clip(name: string, gop: number, container: string[]): Promise<string> {
    const file = path.join(dir, name);
    await run(tools.ffmpeg.path, [
      ...['-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=96x64:rate=10:duration=12'],
      ...['-f', 'lavfi', '-i', 'sine=f=440:sample_rate=48000:duration=12'],
      ...['-c:v', 'libx264', '-g', String(gop), '-keyint_min', String(gop), '-sc_threshold', '0', '-c:a', 'aac', '-shortest'],
      ...container,
      file,
    ]);
    return file;
  }

  it.each([
    ['clip.mp4', []],
    ['clip.mkv', ['-f', 'matroska']],
    ['clip.mov', ['-f', 'mov']],
  ])('finds the keyframe before each time in %s', async (name, container) => {
    const file = await clip(name, 20, container);
    const ffprobe = new Ffprobe(tools);
    const probe = await ffprobe.probe(file, new AbortController().signal);
    const times = samples(12);
    const keyframes = await ffprobe.keyframesBefore(file, 0, times, probe.startSeconds ?? 0, new AbortController().signal);
    // A keyframe every 2 s.
    expect(keyframes).toHaveLength(8);
    keyframes!.forEach((keyframe, i) => expect(keyframe).toBeCloseTo(2 * Math.floor(times[i] / 2), 1));
  });

  it('says nothing where a seek does not land on a keyframe (MPEG-TS), or the file is not a video', async () => {
    const file = await clip('clip.ts', 20, ['-f', 'mpegts']);
    const ffprobe = new Ffprobe(tools);
    const probe = await ffprobe.probe(file, new AbortController().signal);
    const times = samples(12);
    const keyframes = await ffprobe.keyframesBefore(file, 0, times, probe.startSeconds ?? 0, new AbortController().signal);
    // Either unknown, or (where the demuxer happened to land on keyframes) the right ones.
    if (keyframes) keyframes.forEach((keyframe, i) => expect(keyframe).toBeLessThanOrEqual(times[i] + 0.01));
    const text = path.join(dir, 'notes.txt');
    await writeFile(text, 'hello\n');
    expect(await ffprobe.keyframesBefore(text, 0, times, 0, new AbortController().signal)).toBeUndefined();
  });
});
