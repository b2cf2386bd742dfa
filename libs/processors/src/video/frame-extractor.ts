import { Writable } from 'node:stream';
import ffmpeg from 'fluent-ffmpeg';
import type { MediaTools } from '../media-tools/media-tools';
import { abortReason } from '../media-tools/tool-process';
import { inputPath, SAFE_INPUT_OPTIONS } from './ffprobe';

export interface FrameRequest {
  file: string;
  /** ffprobe's index of the video stream to read. */
  streamIndex: number;
  /** Input seek: the first frame at or after this time, in seconds from the start of the file. */
  seconds: number;
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

  extract(request: FrameRequest): Promise<ExtractedFrame> {
    const { signal } = request;
    return new Promise<ExtractedFrame>((resolve, reject) => {
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
        settle(() => resolve({ png: received > 0 ? Buffer.concat(chunks) : null, stderr: ended ?? '' }));
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

      const command = ffmpeg({ stdoutLines: STDERR_LINES })
        .setFfmpegPath(this.tools.ffmpeg.path)
        .input(inputPath(request.file))
        .inputOptions([
          '-nostdin',
          '-hide_banner',
          '-loglevel',
          'error',
          ...(request.imageFormat
            ? ['-protocol_whitelist', 'file', '-format_whitelist', request.imageFormat, '-f', request.imageFormat]
            : [...SAFE_INPUT_OPTIONS, '-noautorotate', ...(request.keyframesOnly ? ['-noaccurate_seek', '-skip_frame', 'nokey'] : [])]),
          '-threads',
          String(request.threads ?? DECODER_THREADS),
          ...(request.decoder ? ['-c:v', request.decoder] : []),
          ...(request.imageFormat ? [] : ['-ss', formatSeconds(request.seconds)]),
        ])
        .outputOptions([
          '-map',
          `0:${request.streamIndex}`,
          '-an',
          '-sn',
          '-dn',
          '-filter_threads',
          '1',
          '-frames:v',
          '1',
          '-c:v',
          'png',
          '-compression_level',
          '1',
          '-f',
          'image2pipe',
        ])
        .output(sink, { end: true });
      if (request.filters.length > 0) command.videoFilters([...request.filters]);

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

/** Seconds as ffmpeg reads them, to the microsecond. */
function formatSeconds(seconds: number): string {
  return Math.max(0, seconds).toFixed(6);
}

function killIfRunning(command: ffmpeg.FfmpegCommand): void {
  // fluent-ffmpeg sets `ffmpegProc` while the process runs and does not declare it in its types.
  const running = (command as unknown as { ffmpegProc?: { exitCode: number | null; signalCode: string | null } }).ffmpegProc;
  if (running && running.exitCode === null && running.signalCode === null) command.kill('SIGKILL');
}
