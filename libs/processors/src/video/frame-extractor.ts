import { Writable } from 'node:stream';
import ffmpeg from 'fluent-ffmpeg';
import type { MediaTools } from '../media-tools/media-tools';
import { abortReason } from '../media-tools/tool-process';
import { inputPath, SAFE_INPUT_OPTIONS } from './ffprobe';

export interface FrameRequest {
  file: string;
  /** ffprobe's index of the video stream to read. */
  streamIndex: number;
  /**
   * Input seek: the first frame at or after this time, in seconds from the start of the file.
   * Null: no seek, the stream's first frame (a cover picture in an MP4 has no timestamp to seek to:
   * `-ss 0` gives no frame at all).
   */
  seconds: number | null;
  /** Video filter chain applied to the frame (orientation, size cap). */
  filters: readonly string[];
  /** A decoder to use instead of ffmpeg's default for the stream (libvpx-vp9 keeps a WebM's alpha). */
  decoder?: string;
  /** Take the keyframe at or before `seconds` and decode keyframes only: one frame decoded, whatever the GOP. */
  keyframesOnly?: boolean;
  /** Decoder threads (default 2). */
  threads?: number;
  /** An image read through ffmpeg instead of a video (BMP, which sharp's libvips cannot read): no seeking. */
  imageFormat?: 'bmp_pipe';
  /** Bytes of PNG accepted; a bigger frame fails the extraction and kills ffmpeg. */
  maxBytes: number;
  signal: AbortSignal;
}

/** Frames taken in one decoding pass: the first frame at or after each of `times`, in order. */
export interface SeriesRequest extends FrameRequest {
  /**
   * When each frame is due, in seconds from the start of the file, ascending; none before
   * `seconds` (the input seek), or without a seek, the stream is decoded from its start.
   */
  times: readonly number[];
}

export interface ExtractedFrame {
  /** The frame as PNG, or null when the stream has no frame at or after the time asked for. */
  png: Buffer | null;
  /** What ffmpeg reported on the way (errors only): a clue when `png` is null. */
  stderr: string;
}

/** ffmpeg exited with an error; `stderr` says why. */
export class FfmpegError extends Error {
  constructor(
    message: string,
    readonly stderr: string,
  ) {
    super(message);
    this.name = 'FfmpegError';
  }
}

/** The PNG ffmpeg wrote was bigger than allowed. */
export class FrameTooLargeError extends Error {
  constructor(readonly limitBytes: number) {
    super(`The decoded frame was larger than ${limitBytes} bytes.`);
    this.name = 'FrameTooLargeError';
  }
}

/** Lines of ffmpeg's stderr fluent-ffmpeg keeps (the last ones); with -loglevel error there are few. */
const STDERR_LINES = 200;
/** Decoder threads: enough for speed on a small frame, few enough that concurrent jobs share the cores. */
const DECODER_THREADS = 2;

/**
 * One frame out of a video, with fluent-ffmpeg: input seeking (`-ss` before `-i`, so ffmpeg jumps
 * to the keyframe before the time and decodes from there instead of from the start), the frame
 * encoded as PNG to stdout and gathered in memory (no temporary file), stdout capped.
 *
 * Rotation is applied by the caller's filters with `-noautorotate`: the same result from every
 * ffmpeg build whatever its autorotation does, and never rotated twice.
 *
 * Aborting `signal` kills ffmpeg with SIGKILL and rejects at once with the signal's reason.
 *
 * fluent-ffmpeg keeps the binary's path process-wide (`setFfmpegPath` writes a module-level cache),
 * so it is set before every run from the one MediaTools of the process.
 */
export class FrameExtractor {
  constructor(private readonly tools: MediaTools) {}

  async extract(request: FrameRequest): Promise<ExtractedFrame> {
    const { data, stderr } = await this.run(request, { frames: 1, seeks: [request.seconds], leadingFilters: [], keepFilters: false });
    return { png: data.length > 0 ? data : null, stderr };
  }

  /**
   * The frame at or after each of `times` (the keyframe before each, with `keyframesOnly`) from
   * one ffmpeg run: the file opened once per time as its own input, each input's first frame
   * shaped by `filters` and joined in order (concat). One process instead of one per time: on a
   * 10-minute 1080p clip eight keyframe seeks took 0.68 s of CPU as eight runs, 0.36 s as one.
   * An input with no frame there adds none; the byte cap applies to each frame. PNGs in order.
   */
  async extractAt(request: FrameRequest, times: readonly number[]): Promise<Buffer[]> {
    const { data } = await this.run(
      { ...request, maxBytes: request.maxBytes * times.length },
      { frames: times.length, seeks: times, leadingFilters: [], keepFilters: false },
    );
    return eachWithin(splitPngs(data), request.maxBytes);
  }

  /**
   * The frame at or after each of `times` from one ffmpeg run that decodes the stretch once (a
   * `select` filter ahead of the others picks the frames, so only those are scaled and encoded):
   * cheaper than one seek per frame where the keyframes are far apart, since every exact seek
   * decodes again from its keyframe. ffmpeg writes the PNGs one after the other; they are split
   * at their IEND chunks, in order: fewer than asked for when the stream ended (or broke) first,
   * or when two times fell within one frame (`selectAt`). The byte cap applies to each frame.
   */
  async extractSeries(request: SeriesRequest): Promise<Buffer[]> {
    const count = request.times.length;
    if (count === 0) return [];
    // After an input seek the filters' `t` counts from the seek point; without one, from the file's start.
    const select = `select='${selectAt(request.times.map((time) => Math.max(0, time - (request.seconds ?? 0))))}'`;
    // The graph is kept when the stream changes size or format mid-way (`-reinit_filter 0`: later
    // frames are converted to the first ones' format): a rebuilt graph would forget what `select` has served
    // and pick every frame after the change.
    const { data } = await this.run(
      { ...request, maxBytes: request.maxBytes * count },
      { frames: count, seeks: [request.seconds], leadingFilters: [select], keepFilters: true },
    );
    return eachWithin(splitPngs(data), request.maxBytes);
  }

  private run(request: FrameRequest, plan: RunPlan): Promise<{ data: Buffer; stderr: string }> {
    const { signal } = request;
    const { frames, seeks, leadingFilters, keepFilters } = plan;
    return new Promise<{ data: Buffer; stderr: string }>((resolve, reject) => {
      if (signal.aborted) {
        reject(abortReason(signal));
        return;
      }
      const chunks: Buffer[] = [];
      let received = 0;
      let settled = false;
      let ended: string | undefined;
      let finished = false;

      const settle = (finish: () => void): void => {
        if (settled) return;
        settled = true;
        signal.removeEventListener('abort', onAbort);
        finish();
      };
      // fluent-ffmpeg reports the end when ffmpeg exits, which can come before stdout has drained
      // into the sink: resolve only once both have happened.
      const resolveWhenDone = (): void => {
        if (ended === undefined || !finished) return;
        settle(() => resolve({ data: Buffer.concat(chunks), stderr: ended ?? '' }));
      };

      // emitClose: false, because fluent-ffmpeg treats the target's 'close' as a failure ("Output
      // stream closed") when it comes before ffmpeg's exit, which happens under load.
      const sink = new Writable({
        emitClose: false,
        write(chunk: Buffer, _encoding, callback) {
          received += chunk.length;
          if (received > request.maxBytes) {
            callback(new FrameTooLargeError(request.maxBytes));
            return;
          }
          chunks.push(chunk);
          callback();
        },
      });
      sink.once('finish', () => {
        finished = true;
        resolveWhenDone();
      });

      const command = ffmpeg({ stdoutLines: STDERR_LINES }).setFfmpegPath(this.tools.ffmpeg.path);
      seeks.forEach((seconds, index) => {
        command
          .input(inputPath(request.file))
          .inputOptions([
            ...(index === 0
              ? ['-nostdin', '-hide_banner', '-loglevel', 'error', ...(seeks.length > 1 ? ['-filter_complex_threads', '1'] : [])]
              : []),
            ...(request.imageFormat
              ? ['-protocol_whitelist', 'file', '-format_whitelist', request.imageFormat, '-f', request.imageFormat]
              : [...SAFE_INPUT_OPTIONS, '-noautorotate', ...(request.keyframesOnly ? ['-noaccurate_seek', '-skip_frame', 'nokey'] : [])]),
            '-threads',
            String(request.threads ?? DECODER_THREADS),
            ...(request.decoder ? ['-c:v', request.decoder] : []),
            ...(keepFilters ? ['-reinit_filter', '0'] : []),
            ...(request.imageFormat || seconds === null ? [] : ['-ss', formatSeconds(seconds)]),
          ]);
      });
      const filters = [...leadingFilters, ...request.filters];
      if (seeks.length > 1) {
        // Each input's first frame, shaped, then all of them in order.
        const shaped = seeks.map((_, index) => `[${index}:${request.streamIndex}]${['trim=end_frame=1', ...filters].join(',')}[f${index}]`);
        const joined = `${seeks.map((_, index) => `[f${index}]`).join('')}concat=n=${seeks.length}:v=1:a=0[frames]`;
        command.complexFilter([...shaped, joined], 'frames');
      } else {
        command.outputOptions(['-map', `0:${request.streamIndex}`]);
        if (filters.length > 0) command.videoFilters(filters);
      }
      command
        .outputOptions([
          '-an',
          '-sn',
          '-dn',
          '-filter_threads',
          '1',
          // Each frame picked goes out as it is (no frames duplicated or dropped to a rate).
          ...(frames > 1 ? [this.tools.capabilities.fpsMode ? '-fps_mode' : '-vsync', 'passthrough'] : []),
          '-frames:v',
          String(frames),
          '-c:v',
          'png',
          '-compression_level',
          '1',
          '-f',
          'image2pipe',
        ])
        .output(sink, { end: true });

      function onAbort(): void {
        // Before ffmpeg is spawned (fluent-ffmpeg first checks the build's formats), 'start' kills it.
        killIfRunning(command);
        settle(() => reject(abortReason(signal)));
      }
      signal.addEventListener('abort', onAbort, { once: true });

      command
        .on('start', () => {
          if (settled) killIfRunning(command);
        })
        .on('end', (_stdout: string | null, stderr: string | null) => {
          ended = stderr ?? '';
          resolveWhenDone();
        })
        // Listened to for the whole life of the command: a kill after settling still emits 'error'.
        .on('error', (error: Error & { outputStreamError?: unknown }, _stdout: string | null, stderr: string | null) => {
          const cause = error.outputStreamError;
          if (cause instanceof FrameTooLargeError) {
            settle(() => reject(cause));
            return;
          }
          settle(() => reject(new FfmpegError(error.message, stderr ?? '')));
        });
      command.run();
    });
  }
}

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/**
 * PNG files written one after the other, split by walking their chunks (length, type, data, CRC)
 * to each IEND. What does not parse (a last frame cut short) is left out.
 */
export function splitPngs(data: Buffer): Buffer[] {
  const pngs: Buffer[] = [];
  let start = 0;
  while (start + PNG_SIGNATURE.length <= data.length && data.subarray(start, start + PNG_SIGNATURE.length).equals(PNG_SIGNATURE)) {
    let offset = start + PNG_SIGNATURE.length;
    let end = -1;
    while (offset + 12 <= data.length) {
      const length = data.readUInt32BE(offset);
      const type = data.toString('latin1', offset + 4, offset + 8);
      const next = offset + 12 + length;
      if (next > data.length) break;
      offset = next;
      if (type === 'IEND') {
        end = next;
        break;
      }
    }
    if (end < 0) break;
    pngs.push(data.subarray(start, end));
    start = end;
  }
  return pngs;
}

/** What one ffmpeg run does: how many frames it writes, the input seeks (one input each), filters put first, whether the graph is kept. */
interface RunPlan {
  frames: number;
  /** Each input's seek (null: none). */
  seeks: readonly (number | null)[];
  leadingFilters: readonly string[];
  /** Keep the filter graph when the stream's size or format changes (`-reinit_filter 0`). */
  keepFilters: boolean;
}

/** The frames, each within `maxBytes`; a bigger one fails the run as a single frame would. */
function eachWithin(pngs: Buffer[], maxBytes: number): Buffer[] {
  if (pngs.some((png) => png.length > maxBytes)) throw new FrameTooLargeError(maxBytes);
  return pngs;
}

/**
 * A `select` expression that passes the first frame at or after each of `times` (seconds on the
 * filter's clock, ascending), each frame once: variable 0 holds how many of the times have been
 * served (ffmpeg keeps an expression's variables from one frame to the next); a frame passes when
 * it has reached the next time due, and then serves every time it has reached. Two times within
 * one frame therefore give one frame, and a caller knows from the count that each frame it got is
 * the first at or after its own time.
 */
export function selectAt(times: readonly number[]): string {
  const due = times.reduceRight<string>((rest, time, i) => `if(eq(ld(0),${i}),${time.toFixed(6)},${rest})`, '1e18');
  const reached = times.map((time) => `gte(t,${time.toFixed(6)})`).join('+');
  return `if(gte(t,${due}),st(0,${reached})+1,0)`;
}

/** Seconds as ffmpeg reads them, to the microsecond. */
function formatSeconds(seconds: number): string {
  return Math.max(0, seconds).toFixed(6);
}

function killIfRunning(command: ffmpeg.FfmpegCommand): void {
  // fluent-ffmpeg sets `ffmpegProc` while the process runs and does not declare it in its types.
  const running = (command as unknown as { ffmpegProc?: { exitCode: number | null; signalCode: string | null } }).ffmpegProc;
  if (running && running.exitCode === null && running.signalCode === null) command.kill('SIGKILL');
}
