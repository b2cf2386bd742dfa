import * as path from 'node:path';
import type { MediaTools } from '../media-tools/media-tools';
import { runTool } from '../media-tools/tool-process';
import { parseDisplayMatrix, type OrientationMetadata } from './video-orientation';

/**
 * Demuxers ffprobe and ffmpeg may use: the containers this service accepts (MP4/MOV/3GP, AVI,
 * WebM/MKV, MPEG-TS).
 * Keeping ffmpeg to them means a file cannot steer it into a playlist or concat demuxer that
 * opens other files, whatever its bytes claim to be.
 */
const ACCEPTED_DEMUXERS = 'mov,mp4,m4a,3gp,3g2,mj2,avi,matroska,webm,mpegts';

/** Input options shared by ffprobe and ffmpeg: local files only, accepted containers only. */
export const SAFE_INPUT_OPTIONS: readonly string[] = ['-protocol_whitelist', 'file', '-format_whitelist', ACCEPTED_DEMUXERS];

/** A stream's colour description as ffprobe names it (`color_transfer` etc.), when the stream states it. */
export interface StreamColour {
  transfer?: string;
  primaries?: string;
  matrix?: string;
  range?: string;
}

export interface ProbedStream {
  index: number;
  codecType: string;
  codecName?: string;
  width: number;
  height: number;
  /** Sample (pixel) aspect ratio, width / height of one stored pixel; 1 when square or unstated. */
  sampleAspectRatio: number;
  colour: StreamColour;
  /** A VP8/VP9 stream in WebM/Matroska that carries an alpha channel (`alpha_mode` 1). */
  alpha: boolean;
  /** Its decoder's pixel format (`yuva444p10le` for ProRes 4444 with alpha, `argb` for QuickTime Animation…). */
  pixelFormat?: string;
  /** Stored as two fields per frame (1080i camcorder AVCHD, broadcast): `field_order` tt, bb, tb or bt. */
  interlaced: boolean;
  startSeconds?: number;
  durationSeconds?: number;
  /** Cover art in an audio file: one still picture, not a moving video. */
  attachedPicture: boolean;
  /**
   * The container marks it as the one to play (Matroska's FlagDefault; in MP4/MOV the track's
   * enabled flag, which ffmpeg sets on the first track of a kind when none is chosen).
   */
  isDefault: boolean;
  orientation: OrientationMetadata;
}

export interface ProbeResult {
  startSeconds?: number;
  durationSeconds?: number;
  streams: ProbedStream[];
}

/** ffprobe exited with an error; `stderr` says why. */
export class FfprobeError extends Error {
  constructor(
    readonly stderr: string,
    readonly exitCode: number | null,
  ) {
    super(`ffprobe failed (exit code ${exitCode}): ${stderr.trim().split('\n')[0] ?? ''}`);
    this.name = 'FfprobeError';
  }
}

const PROBE_OUTPUT_LIMIT = 4 * 1024 * 1024;
/**
 * What `probe` reads, and nothing else: `-show_format -show_streams` print every tag too, so a
 * playable MP4 with a 5 MB comment (or a huge XMP or lyrics tag) overran PROBE_OUTPUT_LIMIT and
 * failed as "probably damaged".
 */
const PROBE_ENTRIES = [
  'format=start_time,duration',
  'stream=index,codec_type,codec_name,width,height,pix_fmt,field_order,sample_aspect_ratio,color_transfer,color_primaries,color_space,color_range,start_time,duration',
  'stream_tags=alpha_mode,ALPHA_MODE,DURATION,duration,rotate',
  'stream_disposition=attached_pic,default',
  'stream_side_data_list',
].join(':');

/**
 * ffprobe, run directly rather than through fluent-ffmpeg's `ffprobe()`: that one offers no way to
 * kill the process when a job times out, keeps unbounded output in memory and flattens the side
 * data (display matrix) that rotation is read from. JSON output, stdout capped, killed on abort.
 */
export class Ffprobe {
  constructor(private readonly tools: MediaTools) {}

  /** Container and stream facts: sizes, durations, rotation. Rejects with FfprobeError when ffprobe cannot read the file. */
  async probe(file: string, signal: AbortSignal): Promise<ProbeResult> {
    const result = await this.run(file, ['-print_format', 'json', '-show_entries', PROBE_ENTRIES], {
      signal,
      maxStdoutBytes: PROBE_OUTPUT_LIMIT,
    });
    if (result.exitCode !== 0) throw new FfprobeError(result.stderr, result.exitCode);
    let json: unknown;
    try {
      json = JSON.parse(result.stdout.toString('utf8'));
    } catch {
      throw new FfprobeError(result.stderr || 'ffprobe printed no readable description of the file', result.exitCode);
    }
    return parseProbe(json);
  }

  /**
   * The first and last presentation times of a stream's packets, read by demuxing the whole file
   * without decoding it: how long a video is when its container does not say (WebM written
   * live by MediaRecorder, streamed Matroska without a Duration element); with how long the last
   * packet lasts, when the container says (what a one-frame clip lasts).
   */
  async packetSpan(
    file: string,
    streamIndex: number,
    signal: AbortSignal,
  ): Promise<{ first: number; last: number; lastDuration?: number } | undefined> {
    let first = Number.POSITIVE_INFINITY;
    let last = Number.NEGATIVE_INFINITY;
    let lastDuration: number | undefined;
    let pending = '';
    const take = (line: string): void => {
      const [pts, duration] = line.split(',');
      const value = Number.parseFloat(pts);
      if (!Number.isFinite(value)) return;
      first = Math.min(first, value);
      if (value >= last) {
        const lasts = Number.parseFloat(duration ?? '');
        lastDuration = Number.isFinite(lasts) && lasts > 0 ? lasts : undefined;
        last = value;
      }
    };
    const result = await this.run(
      file,
      ['-select_streams', String(streamIndex), '-show_entries', 'packet=pts_time,duration_time', '-of', 'csv=p=0'],
      {
        signal,
        // One line per packet: read as it streams, keeping two numbers instead of the whole list.
        onStdout: (chunk) => {
          const lines = (pending + chunk.toString('latin1')).split('\n');
          pending = lines.pop() ?? '';
          lines.forEach(take);
        },
      },
    );
    take(pending);
    if (result.exitCode !== 0 && !Number.isFinite(first)) throw new FfprobeError(result.stderr, result.exitCode);
    return Number.isFinite(first) ? { first, last, lastDuration } : undefined;
  }

  /**
   * The keyframe at or before each of `times` (seconds from the file's start; `origin` is the file's
   * start time as ffprobe reports it), found by seeking ffprobe to each (`-read_intervals`, one
   * packet each) without decoding anything: MP4/MOV, Matroska/WebM and AVI seek through their index
   * to the keyframe before the time. Undefined when any landing is not a keyframe or is missing
   * (MPEG-TS seeks by byte position and lands anywhere), or ffprobe fails: the caller then guesses.
   */
  async keyframesBefore(
    file: string,
    streamIndex: number,
    times: readonly number[],
    origin: number,
    signal: AbortSignal,
  ): Promise<number[] | undefined> {
    const intervals = times.map((time) => `${(origin + time).toFixed(6)}%+#1`).join(',');
    const result = await this.run(
      file,
      ['-select_streams', String(streamIndex), '-read_intervals', intervals, '-show_entries', 'packet=pts_time,flags', '-of', 'csv=p=0'],
      { signal, maxStdoutBytes: 64 * 1024 },
    );
    if (result.exitCode !== 0) return undefined;
    const landings = result.stdout
      .toString('latin1')
      .split('\n')
      .map((line) => line.split(','))
      .filter(([pts]) => pts !== undefined && pts.trim() !== '');
    if (landings.length !== times.length) return undefined;
    const keyframes = landings.map(([pts, flags]) => (flags?.includes('K') ? Number.parseFloat(pts) - origin : Number.NaN));
    return keyframes.every(Number.isFinite) ? keyframes : undefined;
  }

  /** ffprobe on one local file of an accepted container, errors only, with `args` before the input. */
  private run(file: string, args: string[], options: Parameters<typeof runTool>[2]): ReturnType<typeof runTool> {
    return runTool(
      this.tools.ffprobe.path,
      ['-hide_banner', '-v', 'error', ...SAFE_INPUT_OPTIONS, ...args, '-i', inputPath(file)],
      options,
    );
  }
}

/** An absolute path, so that no file name can read as an option or a protocol ("-x", "concat:…"). */
export function inputPath(file: string): string {
  return path.resolve(file);
}

// ffprobe's JSON, loosely: numbers come as strings or numbers depending on the field and version.
interface RawStream {
  index?: number;
  codec_type?: string;
  codec_name?: string;
  pix_fmt?: string;
  field_order?: string;
  sample_aspect_ratio?: string;
  color_transfer?: string;
  color_primaries?: string;
  color_space?: string;
  color_range?: string;
  width?: number;
  height?: number;
  start_time?: string;
  duration?: string;
  disposition?: { attached_pic?: number; default?: number };
  tags?: Record<string, string | undefined>;
  side_data_list?: Array<{ side_data_type?: string; displaymatrix?: string; rotation?: number | string }>;
}

interface RawProbe {
  streams?: RawStream[];
  format?: { start_time?: string; duration?: string };
}

function parseProbe(json: unknown): ProbeResult {
  const raw = (json ?? {}) as RawProbe;
  return {
    startSeconds: seconds(raw.format?.start_time),
    durationSeconds: positive(seconds(raw.format?.duration)),
    streams: (raw.streams ?? []).map(parseStream),
  };
}

function parseStream(stream: RawStream, position: number): ProbedStream {
  const displayMatrix = stream.side_data_list?.find((data) => /display ?matrix/i.test(data.side_data_type ?? ''));
  const tags = stream.tags ?? {};
  const known = (value: string | undefined) => (value && value !== 'unknown' && value !== 'reserved' ? value : undefined);
  return {
    index: stream.index ?? position,
    codecType: stream.codec_type ?? 'unknown',
    codecName: stream.codec_name,
    width: wholeNumber(stream.width),
    height: wholeNumber(stream.height),
    sampleAspectRatio: ratio(stream.sample_aspect_ratio),
    colour: {
      transfer: known(stream.color_transfer),
      primaries: known(stream.color_primaries),
      matrix: known(stream.color_space),
      range: known(stream.color_range),
    },
    alpha: (tags.alpha_mode ?? tags.ALPHA_MODE) === '1',
    pixelFormat: known(stream.pix_fmt),
    interlaced: ['tt', 'bb', 'tb', 'bt'].includes(stream.field_order ?? ''),
    startSeconds: seconds(stream.start_time),
    durationSeconds: positive(seconds(stream.duration)) ?? positive(clockSeconds(tags.DURATION ?? tags.duration)),
    attachedPicture: stream.disposition?.attached_pic === 1,
    isDefault: stream.disposition?.default === 1,
    orientation: {
      displayMatrix: parseDisplayMatrix(displayMatrix?.displaymatrix),
      rotation: seconds(displayMatrix?.rotation === undefined ? undefined : String(displayMatrix.rotation)),
      rotateTag: seconds(tags.rotate),
    },
  };
}

/** "4:3" → 1.333…; 1 for missing, zero or nonsense values. */
function ratio(value: string | undefined): number {
  const match = /^(\d+):(\d+)$/.exec(value ?? '');
  if (!match) return 1;
  const result = Number(match[1]) / Number(match[2]);
  return Number.isFinite(result) && result > 0 ? result : 1;
}

function seconds(value: string | undefined): number | undefined {
  if (value === undefined || value === '' || value === 'N/A') return undefined;
  const number = Number(value);
  return Number.isFinite(number) ? number : undefined;
}

function positive(value: number | undefined): number | undefined {
  return value !== undefined && value > 0 ? value : undefined;
}

function wholeNumber(value: number | undefined): number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? Math.floor(value) : 0;
}

/** Matroska's per-stream DURATION tag, "HH:MM:SS.nnnnnnnnn". */
function clockSeconds(value: string | undefined): number | undefined {
  const match = /^(\d+):(\d{2}):(\d{2}(?:\.\d+)?)$/.exec(value ?? '');
  if (!match) return undefined;
  return Number(match[1]) * 3600 + Number(match[2]) * 60 + Number(match[3]);
}
