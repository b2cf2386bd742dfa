import { execFile, execFileSync, spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdtemp, open, readFile, rm, writeFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { pipeline } from 'node:stream/promises';

/**
 * Videos for tests, generated with ffmpeg from lavfi sources into a temp folder (nothing binary is
 * committed), plus byte surgery for what ffmpeg will not write on purpose: truncations, garbage
 * after a valid header, chosen display matrices, headers claiming huge frames.
 */

export type Rgb = readonly [number, number, number];

/** Colours that stay far apart after YUV 4:2:0 encoding, by ffmpeg colour name. */
export const PALETTE: Readonly<Record<string, Rgb>> = {
  red: [255, 0, 0],
  lime: [0, 255, 0],
  blue: [0, 0, 255],
  yellow: [255, 255, 0],
  cyan: [0, 255, 255],
  magenta: [255, 0, 255],
  white: [255, 255, 255],
  orange: [255, 165, 0],
};
export type PaletteColour = keyof typeof PALETTE;
export const PALETTE_NAMES = Object.keys(PALETTE);

/** The encoders an ffmpeg build has (`ffmpeg -encoders`), read synchronously so tests can skip at collection time. */
export function listEncoders(ffmpeg: string): Set<string> {
  const text = execFileSync(ffmpeg, ['-hide_banner', '-encoders'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  const names = new Set<string>();
  for (const line of text.split('\n')) {
    const match = /^\s[VAS][F.][S.][X.][B.][D.]\s+(\S+)/.exec(line);
    if (match) names.add(match[1]);
  }
  return names;
}

/** Runs `ffmpeg -y <args>`; rejects with ffmpeg's stderr. */
export function runFfmpeg(ffmpeg: string, args: readonly string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(
      ffmpeg,
      ['-hide_banner', '-nostdin', '-loglevel', 'error', '-y', ...args],
      { maxBuffer: 4 * 1024 * 1024 },
      (error, _stdout, stderr) => {
        if (error) reject(new Error(`ffmpeg ${args.join(' ')}\n${stderr}`));
        else resolve();
      },
    );
  });
}

/** Runs at most `limit` of the tasks at once (two cores: more would only make each slower). */
export async function inParallel<T>(limit: number, tasks: ReadonlyArray<() => Promise<T>>): Promise<T[]> {
  const results: T[] = new Array(tasks.length);
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < tasks.length) {
      const index = next++;
      results[index] = await tasks[index]();
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, lane));
  return results;
}

export interface Segment {
  colour: PaletteColour;
  frames: number;
}

/** Share of a segment frame's pixels in the segment's colour; the rest is a black grid. */
export const SEGMENT_COLOUR_SHARE = (6 / 8) ** 2;

/**
 * A filter graph whose frames tell their time: one segment per colour, each frame that colour
 * under a black grid (2 px lines every 8 px: a picture, not a flat field, and the same mean
 * colour in any window a cover crop may take), `rate` frames a second. Returns the
 * `-filter_complex` value and the label of its output.
 */
export function segmentsGraph(
  segments: readonly Segment[],
  width: number,
  height: number,
  rate: number,
): { graph: string; output: string } {
  const parts = segments.map(
    (segment, i) =>
      `color=c=${segment.colour}:s=${width}x${height}:r=${rate},trim=end_frame=${segment.frames},` +
      `drawgrid=w=8:h=8:t=2:c=black,setpts=PTS-STARTPTS[s${i}]`,
  );
  const inputs = segments.map((_, i) => `[s${i}]`).join('');
  const graph = `${parts.join(';')};${inputs}concat=n=${segments.length}:v=1:a=0,format=yuv420p[v]`;
  return { graph, output: '[v]' };
}

/** Brightness ramp: frame `i` has luma 70 + 5·i (limited range), so frames up to index 30 are told apart. */
export const RAMP = { base: 70, step: 5, maxFrames: 31, gridDrop: 30 } as const;

/**
 * A filter graph of `frames` grey frames, each one brighter than the one before (RAMP), with a
 * grid 30 levels darker (2 px every 8 px) so that no frame is flat. The thumbnail's mean grey
 * says which frame it was made from.
 */
export function rampGraph(frames: number, width: number, height: number, rate: number): string {
  if (frames > RAMP.maxFrames) throw new Error(`at most ${RAMP.maxFrames} frames`);
  const grid = `${RAMP.gridDrop}*gt(lt(mod(X,8),2)+lt(mod(Y,8),2),0)`;
  return `color=c=black:s=${width}x${height}:r=${rate},trim=end_frame=${frames},format=yuv420p,geq=lum='${RAMP.base}+N*${RAMP.step}-${grid}':cb=128:cr=128[v]`;
}

/** The mean RGB grey a thumbnail of ramp frame `index` has: full-range grey of each luma, weighted by the grid. */
export function rampMeanGrey(index: number): number {
  const grey = (luma: number) => ((luma - 16) * 255) / 219;
  const luma = RAMP.base + index * RAMP.step;
  return SEGMENT_COLOUR_SHARE * grey(luma) + (1 - SEGMENT_COLOUR_SHARE) * grey(luma - RAMP.gridDrop);
}

/** Four quadrants of different colours (top-left red, top-right lime, bottom-left blue, bottom-right yellow). */
export const QUADRANTS: Readonly<Record<'tl' | 'tr' | 'bl' | 'br', PaletteColour>> = { tl: 'red', tr: 'lime', bl: 'blue', br: 'yellow' };

export function quadrantsGraph(width: number, height: number, rate: number, seconds: number): string {
  const w = width / 2;
  const h = height / 2;
  const tile = (colour: string, label: string) => `color=c=${colour}:s=${w}x${h}:r=${rate}:d=${seconds}[${label}]`;
  return [
    tile(QUADRANTS.tl, 'a'),
    tile(QUADRANTS.tr, 'b'),
    tile(QUADRANTS.bl, 'c'),
    tile(QUADRANTS.br, 'd'),
    '[a][b]hstack[top]',
    '[c][d]hstack[bottom]',
    '[top][bottom]vstack,format=yuv420p[v]',
  ].join(';');
}

/** A temp folder of generated videos; `remove()` deletes it. */
export class VideoFixtures {
  private constructor(
    readonly dir: string,
    readonly ffmpeg: string,
  ) {}

  static async create(ffmpeg: string, prefix = 'thumbs-video-'): Promise<VideoFixtures> {
    return new VideoFixtures(await mkdtemp(path.join(os.tmpdir(), prefix)), ffmpeg);
  }

  path(name: string): string {
    return path.join(this.dir, name);
  }

  /** `ffmpeg -y <args> <dir/name>`. */
  async make(name: string, args: readonly string[]): Promise<string> {
    const file = this.path(name);
    await runFfmpeg(this.ffmpeg, [...args, file]);
    return file;
  }

  /**
   * `ffmpeg <args> -f <format> pipe:1 > dir/name`: a muxer writing to a pipe cannot seek back, so
   * a WebM made this way has no Duration and no Cues, like one recorded live by MediaRecorder.
   */
  async makePiped(name: string, args: readonly string[], format: string): Promise<string> {
    const file = this.path(name);
    const child = spawn(this.ffmpeg, ['-hide_banner', '-nostdin', '-loglevel', 'error', ...args, '-f', format, 'pipe:1'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve, reject) => {
      child.once('error', reject);
      child.once('close', resolve);
    });
    await pipeline(child.stdout, createWriteStream(file));
    const code = await exited;
    if (code !== 0) throw new Error(`ffmpeg ${args.join(' ')} (piped)\n${stderr}`);
    return file;
  }

  async writeBytes(name: string, data: Buffer): Promise<string> {
    const file = this.path(name);
    await writeFile(file, data);
    return file;
  }

  /** The first `fraction` of a file's bytes (an upload cut short). */
  async truncated(source: string, name: string, fraction: number): Promise<string> {
    const data = await readFile(source);
    return this.writeBytes(name, data.subarray(0, Math.max(1, Math.floor(data.length * fraction))));
  }

  /** The first `keep` bytes of a real file (a valid header), then `count` pseudo-random bytes from `seed`. */
  async withGarbageAfter(source: string, name: string, keep: number, count: number, seed: number): Promise<string> {
    const head = (await readFile(source)).subarray(0, keep);
    return this.writeBytes(name, Buffer.concat([head, seededBytes(count, seed)]));
  }

  /**
   * A copy of an MP4/MOV whose video track has the given display matrix (a, b, c, d in the
   * row-vector convention of ISO/IEC 14496-12: a stored point (x, y) is shown at
   * (a·x + c·y, b·x + d·y)). Written into the `tkhd` box, where phones write it.
   */
  async withDisplayMatrix(source: string, name: string, [a, b, c, d]: readonly [number, number, number, number]): Promise<string> {
    const data = Buffer.from(await readFile(source));
    const offsets = tkhdMatrixOffsets(data);
    if (offsets.length === 0) throw new Error(`${source} has no tkhd box`);
    for (const offset of offsets) {
      const values = [a, b, 0, c, d, 0, 0, 0, 1];
      values.forEach((value, i) => data.writeInt32BE(i === 8 ? 1 << 30 : value * 65536, offset + i * 4));
    }
    return this.writeBytes(name, data);
  }

  /**
   * An AVI with one raw-video frame whose header claims `width`×`height` (a decompression bomb:
   * the frame's bytes are not there, the header would have ffmpeg allocate them).
   */
  async rawVideoBomb(name: string, width: number, height: number): Promise<string> {
    const small = await this.make(`${name}.source.avi`, [
      '-f',
      'lavfi',
      '-i',
      'color=c=red:s=16x16:r=1:d=1',
      '-c:v',
      'rawvideo',
      '-pix_fmt',
      'bgr24',
    ]);
    const data = Buffer.from(await readFile(small));
    const avih = data.indexOf('avih');
    const strf = data.indexOf('strf');
    if (avih < 0 || strf < 0) throw new Error('unexpected AVI layout');
    data.writeUInt32LE(width, avih + 8 + 32);
    data.writeUInt32LE(height, avih + 8 + 36);
    data.writeInt32LE(width, strf + 8 + 4);
    data.writeInt32LE(-height, strf + 8 + 8);
    await rm(small, { force: true });
    return this.writeBytes(name, data);
  }

  async remove(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true });
  }
}

/** The display matrix (a, b, c, d) of every `tkhd` box in an MP4/MOV, read back for expectations. */
export async function readDisplayMatrices(file: string): Promise<Array<[number, number, number, number]>> {
  const data = await readFile(file);
  return tkhdMatrixOffsets(data).map((offset) => {
    const at = (i: number) => data.readInt32BE(offset + i * 4) / 65536;
    return [at(0), at(1), at(3), at(4)];
  });
}

/** Byte offsets of the 36-byte matrix inside each `tkhd` box (version 0 or 1). */
function tkhdMatrixOffsets(data: Buffer): number[] {
  const offsets: number[] = [];
  for (let at = data.indexOf('tkhd'); at >= 0; at = data.indexOf('tkhd', at + 4)) {
    const version = data[at + 4];
    // fourcc, version+flags, times/track id/reserved/duration, reserved(8), layer, group, volume, reserved.
    const times = version === 1 ? 8 + 8 + 4 + 4 + 8 : 4 + 4 + 4 + 4 + 4;
    offsets.push(at + 4 + 4 + times + 8 + 2 + 2 + 2 + 2);
  }
  return offsets;
}

/** Deterministic bytes (xorshift32), so a failing case can be reproduced. */
export function seededBytes(count: number, seed: number): Buffer {
  const out = Buffer.alloc(count);
  let state = seed >>> 0 || 1;
  for (let i = 0; i < count; i++) {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    out[i] = state & 0xff;
  }
  return out;
}

/** Creates a FIFO (named pipe) with mkfifo: a "file" whose reader blocks until someone writes. */
export async function makeFifo(dir: string, name: string): Promise<string> {
  const file = path.join(dir, name);
  await new Promise<void>((resolve, reject) => execFile('mkfifo', [file], (error: Error | null) => (error ? reject(error) : resolve())));
  return file;
}

/** Opens a FIFO for writing (waits for a reader), writes `data` and closes it; a reader leaving early is fine. */
export async function feedFifo(fifo: string, data: Buffer): Promise<void> {
  const handle = await open(fifo, 'w');
  try {
    await handle.write(data);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPIPE') throw error;
  } finally {
    await handle.close();
  }
}

export interface ChildProcessInfo {
  pid: number;
  state: string;
  args: string;
}

/** The child processes of this process (from ps, leaving out that ps), zombies included. */
export function childProcesses(): ChildProcessInfo[] {
  const text = execFileSync('ps', ['-o', 'pid=,stat=,args=', '--ppid', String(process.pid)], { encoding: 'utf8' }).trim();
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      const [pid, state, ...args] = line.trim().split(/\s+/);
      return { pid: Number(pid), state, args: args.join(' ') };
    })
    .filter((child) => !child.args.startsWith('ps -o'));
}

/** Polls until `check` returns a value (not undefined) or `timeoutMs` passes. */
export async function waitFor<T>(check: () => T | undefined, timeoutMs: number, intervalMs = 25): Promise<T | undefined> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value !== undefined || Date.now() > until) return value;
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
