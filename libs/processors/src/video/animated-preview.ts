import { Logger } from '@nestjs/common';
import sharp from 'sharp';
import type { ThumbnailPosition } from '@app/shared';
import type { MediaTools } from '../media-tools/media-tools';
import { abortReason } from '../media-tools/tool-process';
import { cropPosition } from '../renditions/rendition-maker';
import type { Rendition } from '../renditions/renditions';
import { Ffprobe, type ProbedStream } from './ffprobe';
import { FfmpegError, FrameExtractor, type FrameRequest } from './frame-extractor';
import { decodesAlpha, frameShape } from './frame-filters';
import type { VideoSpan } from './frame-times';

/** Frames sampled across the clip, and how long each is shown. */
export const ANIMATED_FRAMES = 8;
const FRAME_DELAY_MS = 500;
/**
 * Clips at least this long (samples 4 s apart or more) are sampled at the keyframe before each
 * point, decoding keyframes only (one frame per sample, whatever the GOP); shorter ones exactly
 * (each sample decodes from its keyframe: at most the GOP, and never more than the short clip).
 */
const KEYFRAME_SAMPLING_SECONDS = 32;
/**
 * Where the keyframes of a shorter clip cannot be read (MPEG-TS), clips shorter than this are
 * sampled in one decoding pass and longer ones with a seek per sample (see `sampling`).
 */
export const SEQUENTIAL_SAMPLING_SECONDS = 15;
/**
 * Seeks in one run open a decoder per sample, all alive together: measured on 1080p H.264, the
 * ffmpeg process peaked at 150 MB with eight inputs against 66 MB with one. Frames bigger than
 * 1080p (4K HEVC would be several hundred MB) are sampled with one run per sample instead.
 */
const MULTI_INPUT_MAX_PIXELS = 1920 * 1088;

export interface AnimatedPreviewRequest {
  file: string;
  /** The file's start time as ffprobe reports it (times in `span` count from it). */
  origin: number;
  stream: ProbedStream;
  span: VideoSpan;
  thumbnailSize: number;
  position: ThumbnailPosition;
  /** A decoder that keeps alpha (libvpx), when the stream has it. */
  decoder?: string;
  timeoutSeconds: number;
  signal: AbortSignal;
}

/** How a clip's samples are taken (AnimatedPreviewMaker.plan). */
export interface SamplingPlan {
  times: number[];
  how: 'pass' | 'seeks';
  keyframesKnown: boolean;
}

/** One pass from a known keyframe: a caller decoding that stretch anyway can take the samples in its run. */
export function sharesPass(plan: SamplingPlan): boolean {
  return plan.how === 'pass' && plan.keyframesKnown;
}

/** What choosing how to sample a clip needs to know. */
export type SamplingRequest = Pick<AnimatedPreviewRequest, 'file' | 'origin' | 'stream' | 'span' | 'signal'>;

/** When the animated preview's frames are due: ANIMATED_FRAMES evenly across the span, each in the middle of its share. */
export function sampleTimes(span: VideoSpan): number[] {
  return Array.from({ length: ANIMATED_FRAMES }, (_, i) => span.start + (span.duration * (i + 0.5)) / ANIMATED_FRAMES);
}

/**
 * A looping animated WebP of ANIMATED_FRAMES frames spread evenly across a clip, (2×THUMBNAIL_SIZE)²
 * cover-cropped like the thumbnail. A short clip is decoded once for all of them
 * (SEQUENTIAL_SAMPLING_SECONDS); otherwise each frame comes from an input seek (`-ss` before `-i`),
 * so a 10-minute clip costs eight seeks, not a decode of ten minutes (KEYFRAME_SAMPLING_SECONDS).
 * The frames are shaped like the thumbnail's (scaling, colour and tone mapping, rotation) and sharp
 * crops and assembles them (libwebp merges identical neighbours, so a still clip gives one frame).
 * A failure here (a sample past a damaged part) leaves the clip without an animated preview rather
 * than failing the job, whose thumbnail is already made; an abort still stops everything.
 */
export class AnimatedPreviewMaker {
  private readonly logger = new Logger(AnimatedPreviewMaker.name);

  private readonly extractor: FrameExtractor;
  private readonly ffprobe: Ffprobe;

  constructor(private readonly tools: MediaTools) {
    this.extractor = new FrameExtractor(tools);
    this.ffprobe = new Ffprobe(tools);
  }

  /**
   * The animated preview, of `taken` when the caller already has its frames (from `plan`'s times,
   * in order, shaped like the thumbnail's frame or larger), else of frames taken here, the way
   * `plan` (when the caller has made it, for this same span) says.
   */
  async make(request: AnimatedPreviewRequest, taken?: readonly Buffer[], plan?: SamplingPlan): Promise<Rendition | null> {
    const { span, signal } = request;
    const given = taken && taken.length > 0;
    if (!given && !(span.duration > 0)) return null;
    try {
      const frames = given ? [...taken] : await this.frames(request, plan);
      if (frames.length === 0) return null;
      return await this.assemble(frames, request);
    } catch (error) {
      if (signal.aborted) throw abortReason(signal);
      this.logger.warn(`No animated preview for ${request.file}: ${(error as Error).message}`);
      return null;
    }
  }

  /**
   * The frames from one ffmpeg run where it can: decoded once through, or with a seek per sample,
   * each its own input of the same run (up to MULTI_INPUT_MAX_PIXELS: every input keeps a decoder
   * open). What that run gives is kept, a sample with no frame (past the end of the stream, a
   * damaged stretch) simply missing. When the run fails or gives nothing (and for bigger frames),
   * one run per sample, one after the other, skipping a sample that yields nothing without losing
   * the others. One decoder thread throughout, so that a job's CPU stays at one decoder at a time.
   */
  private async frames(request: AnimatedPreviewRequest, plan?: SamplingPlan): Promise<Buffer[]> {
    const { span, stream } = request;
    const base: FrameRequest = {
      file: request.file,
      streamIndex: stream.index,
      seconds: span.start + span.duration / (2 * ANIMATED_FRAMES),
      decoder: request.decoder,
      keyframesOnly: span.duration >= KEYFRAME_SAMPLING_SECONDS,
      threads: 1,
      signal: request.signal,
      ...frameShape(
        stream,
        { thumbnailSize: request.thumbnailSize, previewSize: 0 },
        this.tools.capabilities,
        decodesAlpha(stream, request.decoder),
      ),
    };
    const times = plan?.times ?? sampleTimes(span);
    const pngs = await this.inOneRun(request, base, times, plan).catch((error: Error) => {
      if (request.signal.aborted) throw error;
      return [];
    });
    if (pngs.length > 0) return pngs;

    const frames: Buffer[] = [];
    let lastProblem = '';
    for (const seconds of times) {
      const frame = await this.extractor.extract({ ...base, seconds }).catch((error: Error) => {
        if (request.signal.aborted) throw error;
        return { png: null, stderr: error instanceof FfmpegError ? error.stderr : error.message };
      });
      if (frame.png) frames.push(frame.png);
      else lastProblem = frame.stderr.trim().split('\n')[0] || `no frame at ${seconds.toFixed(2)} s`;
    }
    if (frames.length === 0) throw new Error(lastProblem);
    return frames;
  }

  /** The frames from one ffmpeg run, or none where seeks in one run would hold too many decoders. */
  private async inOneRun(
    request: AnimatedPreviewRequest,
    base: FrameRequest,
    times: readonly number[],
    plan: SamplingPlan | undefined,
  ): Promise<Buffer[]> {
    const { stream } = request;
    const { how, keyframesKnown } = plan ?? (await this.sampling(request, times));
    if (how === 'pass') {
      // Where the keyframes are not known (MPEG-TS has no index), an input seek can land between
      // two keyframes, and the decoder then has no picture until the next one (none at all in a
      // clip with one keyframe): the pass then decodes from the start, 1/16 of the clip more.
      return this.extractor.extractSeries({ ...base, ...(keyframesKnown ? {} : { seconds: null }), times });
    }
    return stream.width * stream.height <= MULTI_INPUT_MAX_PIXELS ? this.extractor.extractAt(base, times) : [];
  }

  /**
   * How this clip's samples would be taken (`sampling`), with their times: for a caller that may
   * take them itself in a run it makes anyway (where `sharesPass`: one pass from a known keyframe, which
   * decodes the thumbnail's midpoint on its way) and that hands the plan back to `make` otherwise,
   * so that the keyframes are read once.
   */
  async plan(request: SamplingRequest): Promise<SamplingPlan | undefined> {
    if (!(request.span.duration > 0)) return undefined;
    const times = sampleTimes(request.span);
    const { how, keyframesKnown } = await this.sampling(request, times);
    return { times, how, keyframesKnown };
  }

  /**
   * One decoding pass or a seek per sample, whichever decodes less. A long clip is sampled at its
   * keyframes (one frame decoded per sample, KEYFRAME_SAMPLING_SECONDS). A shorter one: an exact
   * seek decodes from the keyframe before its sample, a pass from the keyframe before the first
   * sample to the last; where the keyframes are known (read without decoding), the smaller of the
   * two. Either way can lose badly: with one keyframe in a 10 s 1080p30 clip eight seeks took 1.75 s
   * of CPU and a pass 0.57 s; with one a second in a 30 s clip, seeks 0.46 s and a pass 1.37 s.
   */
  private async sampling(request: SamplingRequest, times: readonly number[]): Promise<{ how: 'pass' | 'seeks'; keyframesKnown: boolean }> {
    const { span } = request;
    if (span.duration >= KEYFRAME_SAMPLING_SECONDS) return { how: 'seeks', keyframesKnown: false };
    const keyframes = await this.ffprobe
      .keyframesBefore(request.file, request.stream.index, times, request.origin, request.signal)
      .catch((error: Error) => {
        if (request.signal.aborted) throw error;
        return undefined;
      });
    return { how: chooseSampling(times, keyframes, span.duration), keyframesKnown: keyframes?.length === times.length };
  }

  private async assemble(frames: Buffer[], request: AnimatedPreviewRequest): Promise<Rendition> {
    const edge = 2 * request.thumbnailSize;
    // One frame at a time: frames from a shared run come at the thumbnail frame's size (1440 px
    // wide from a 1080p clip), and eight decoded at once raised the worker's peak by about 60 MB.
    const squares: Buffer[] = [];
    for (const png of frames) {
      squares.push(
        await sharp(png, { limitInputPixels: false })
          .flatten({ background: '#ffffff' })
          .toColourspace('srgb')
          .resize(edge, edge, { fit: 'cover', position: cropPosition(request.position) })
          .png({ compressionLevel: 0 })
          .timeout({ seconds: request.timeoutSeconds })
          .toBuffer(),
      );
    }
    // A clip with fewer frames than samples (two frames a second apart) can give one: a one-frame
    // WebP then, as a still clip gives once libwebp has merged its identical frames.
    const joined = squares.length === 1 ? sharp(squares[0]) : sharp(squares, { join: { animated: true } });
    const data = await joined
      .webp({ quality: 70, effort: 2, loop: 0, delay: squares.map(() => FRAME_DELAY_MS) })
      .timeout({ seconds: request.timeoutSeconds })
      .toBuffer();
    return { data, contentType: 'image/webp', width: edge, height: edge };
  }
}

/**
 * A pass when it decodes no more than the seeks would (each seek from the keyframe before its
 * sample; the pass from the keyframe before the first sample to the last sample), given the
 * keyframes before each sample; without them, a pass for a clip under SEQUENTIAL_SAMPLING_SECONDS.
 */
export function chooseSampling(times: readonly number[], keyframes: readonly number[] | undefined, duration: number): 'pass' | 'seeks' {
  if (!keyframes || keyframes.length !== times.length || times.length === 0) {
    return duration < SEQUENTIAL_SAMPLING_SECONDS ? 'pass' : 'seeks';
  }
  const seeks = times.reduce((sum, time, i) => sum + time - Math.min(time, keyframes[i]), 0);
  const pass = times[times.length - 1] - Math.min(times[0], keyframes[0]);
  return pass <= seeks ? 'pass' : 'seeks';
}
