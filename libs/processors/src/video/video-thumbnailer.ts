import { Injectable, Logger } from '@nestjs/common';
import { AppConfig, UnprocessableMediaError } from '@app/core';
import { ImageThumbnailer } from '../image/image-thumbnailer';
import { MediaTools } from '../media-tools/media-tools';
import { pixelLimitError } from '../pixel-limit';
import { abortReason, ToolOutputLimitError } from '../media-tools/tool-process';
import type { RenditionSizes } from '../renditions/rendition-maker';
import type { Renditions } from '../renditions/renditions';
import { AnimatedPreviewMaker, SEQUENTIAL_SAMPLING_SECONDS, sharesPass, type SamplingPlan, type SamplingRequest } from './animated-preview';
import { Ffprobe, FfprobeError, inputPath, type ProbedStream, type ProbeResult } from './ffprobe';
import { isBlank, lumaStats } from './frame-content';
import { boxCutShort } from './iso-boxes';
import { FfmpegError, FrameExtractor, FrameTooLargeError, type ExtractedFrame, type FrameRequest } from './frame-extractor';
import { alphaDecoderOf, decodesAlpha, displayedSize, frameShape, hdrTransferOf } from './frame-filters';
import { candidateTimes, type VideoSpan } from './frame-times';
import { describeVideoFailure, reportsTruncation } from './video-errors';

export { frameShape } from './frame-filters';

/** The frame chosen for the thumbnail, and what was learnt about the video on the way. */
interface ChosenFrame {
  png: Buffer;
  stream: ProbedStream;
  /** Where the stream's pictures lie, when known (from the container or measured). */
  span?: VideoSpan;
  decoder?: string;
  /** The file's start time as ffprobe reports it. */
  origin: number;
  /** The animated preview's frames, when they came from the same decoding run as the midpoint's. */
  samples?: Buffer[];
  /** How the animated preview's frames are to be taken, when already worked out for `span`. */
  plan?: SamplingPlan;
  /** The longest audio stream's duration, when the container states one. */
  audioSeconds?: number;
}

/** The animated preview's plan, and where it allowed, the midpoint frame and the samples from one decoding run. */
interface SharedRun {
  plan: SamplingPlan;
  midpoint?: Buffer;
  samples?: Buffer[];
}

/** A span measured from the stream's packets; `oneFrame` when they all have one timestamp. */
interface MeasuredSpan extends VideoSpan {
  oneFrame: boolean;
}

/** After the midpoint frame turned out blank, how long to keep looking for one with content. */
const SEARCH_BUDGET_MS = 5000;

/**
 * Videos (MP4, MOV, AVI, WebM; whatever codecs the ffmpeg build decodes) → a square JPEG
 * thumbnail of the frame at duration / 2, rotation metadata applied, through the same
 * ImageThumbnailer as images so crop, colour and JPEG settings are identical.
 *
 * 1. ffprobe: the video stream, its size (refused above MAX_VIDEO_PIXELS before any decoding),
 *    duration and display matrix. No video stream → a permanent failure saying so.
 * 2. Duration missing (live-recorded WebM) → measured from the packets' timestamps.
 * 3. ffmpeg seeks to the midpoint and writes one PNG frame to a pipe. Nothing there (container
 *    duration longer than the stream, a single-frame clip) → the first frame; a file cut short
 *    → a failure saying it is truncated. A single-frame clip lasts what its container, else its
 *    frame, says, and that frame is its animated preview too.
 * 4. A black or flat midpoint frame → a few later (then earlier) frames are tried, within a
 *    time budget, and the first with content wins; none → the midpoint frame after all.
 *
 * Aborting the signal (JOB_TIMEOUT_MS) kills the running ffprobe/ffmpeg and rejects with its reason.
 */
@Injectable()
export class VideoThumbnailer {
  private readonly logger = new Logger(VideoThumbnailer.name);
  private readonly ffprobe: Ffprobe;
  private readonly frames: FrameExtractor;
  private readonly animated: AnimatedPreviewMaker;

  constructor(
    private readonly config: AppConfig,
    private readonly tools: MediaTools,
    private readonly images: ImageThumbnailer,
  ) {
    this.ffprobe = new Ffprobe(tools);
    this.frames = new FrameExtractor(tools);
    this.animated = new AnimatedPreviewMaker(tools);
  }

  /**
   * Every rendition of a video from one chosen frame (thumbnail, 2×, preview, ThumbHash), the
   * displayed size and duration, and (unless `animated` is false) the animated preview.
   */
  async renditions(file: string, sizes: RenditionSizes, signal: AbortSignal, { animated = true } = {}): Promise<Renditions> {
    try {
      const frame = await this.frame(file, sizes, signal, animated);
      const displayed = displayedSize(frame.stream);
      const stills = await this.images.renditionsOfBuffer(frame.png, sizes, signal);
      const animatedPreview =
        animated && frame.span && !frame.stream.attachedPicture
          ? await this.animated.make(
              {
                file,
                origin: frame.origin,
                stream: frame.stream,
                span: frame.span,
                thumbnailSize: sizes.thumbnailSize,
                position: sizes.position,
                decoder: frame.decoder,
                timeoutSeconds: Math.max(1, Math.ceil(this.config.worker.jobTimeoutMs / 1000)),
                signal,
              },
              frame.samples,
              frame.plan,
            )
          : null;
      const hdr = hdrTransferOf(frame.stream);
      return {
        ...stills,
        width: displayed.width,
        height: displayed.height,
        animatedPreview,
        durationMs: playedMs(frame),
        decoder: 'ffmpeg',
        ...(hdr ? { hdr: { transfer: hdr, toneMapped: this.tools.capabilities.toneMapping } } : {}),
      };
    } catch (error) {
      if (signal.aborted) throw abortReason(signal);
      throw await this.describe(error, file);
    }
  }

  /** The square JPEG thumbnail alone (no preview, no animated preview). */
  async fromFile(file: string, size: number, signal: AbortSignal): Promise<Buffer> {
    return (await this.renditions(file, this.images.thumbnailOnly(size), signal, { animated: false })).thumbnail.data;
  }

  /**
   * The frame to make the renditions of, as PNG, oriented as it is displayed; with `animated`, the
   * animated preview's samples too where one run can decode both (`sharedRun`).
   */
  private async frame(file: string, sizes: RenditionSizes, signal: AbortSignal, animated: boolean): Promise<ChosenFrame> {
    const probe = await this.ffprobe.probe(file, signal);
    const stream = videoStreamOf(probe);
    this.assertDecodable(stream);
    const decoder = alphaDecoderOf(stream, this.tools.capabilities);
    const shape = frameShape(stream, sizes, this.tools.capabilities, decodesAlpha(stream, decoder));
    const request: Omit<FrameRequest, 'seconds'> = { file, streamIndex: stream.index, signal, decoder, ...shape };
    const grab = (seconds: number | null): Promise<ExtractedFrame> => this.frames.extract({ ...request, seconds });
    const origin = probe.startSeconds ?? 0;
    const chosen = (png: Buffer, span?: VideoSpan, shared?: SharedRun): ChosenFrame => ({
      png,
      stream,
      span,
      decoder,
      origin,
      samples: shared?.samples,
      plan: shared?.plan,
      audioSeconds: longestAudio(probe),
    });

    if (stream.attachedPicture) return chosen(this.required(await grab(null), file));

    const known = knownSpan(probe, stream);
    const measured = known ? undefined : await this.measuredSpan(file, probe, stream, signal);
    if (measured?.oneFrame) return this.onlyFrame(chosen(this.required(await grab(null), file), measured));
    let span: VideoSpan | undefined = known ?? measured;
    let times = span ? candidateTimes(span) : [0];
    const shared =
      animated && known
        ? await this.sharedRun({ ...request, seconds: null }, { file, origin, stream, span: known, signal }, times[0])
        : undefined;
    let first: ExtractedFrame = shared?.midpoint ? { png: shared.midpoint, stderr: '' } : await grab(times[0]);
    if (!first.png) {
      if (reportsTruncation(first.stderr)) throw describeVideoFailure(first.stderr, inputPath(file));
      // The container can claim more than the stream holds (audio longer than video, a header
      // written before the recording stopped): measure the stream itself, then take its start.
      // (The preview's plan was made for the container's span: it is not handed on.)
      const real = known ? await this.measuredSpan(file, probe, stream, signal) : undefined;
      if (known && real?.oneFrame) {
        // Its one frame lies before the container's midpoint: taken from the start; the clip lasts
        // what the container says.
        return this.onlyFrame(chosen(this.required(await grab(null), file), { start: real.start, duration: known.duration }));
      }
      span = real;
      if (real) {
        times = candidateTimes(real);
        first = await grab(times[0]);
      }
      if (!first.png && span && span.duration < SEQUENTIAL_SAMPLING_SECONDS) {
        // An input seek that lands between keyframes (MPEG-TS has no index) finds no picture
        // before the next one: a short clip is decoded from its start up to the frame instead.
        first = await this.decodedUpTo(request, times[0]);
      }
      if (!first.png) {
        times = [];
        first = await grab(null);
      }
    }
    const midpoint = this.required(first, file);
    const forSpan = span === known ? shared : undefined;
    if (times.length <= 1 || !isBlank(await lumaStats(midpoint))) return chosen(midpoint, span, forSpan);

    const deadline = Date.now() + SEARCH_BUDGET_MS;
    for (const time of times.slice(1)) {
      if (Date.now() > deadline) break;
      const later = await grab(time);
      if (later.png && !isBlank(await lumaStats(later.png))) {
        this.logger.debug(`Frame at ${times[0].toFixed(2)} s is blank; using the one at ${time.toFixed(2)} s`);
        return chosen(later.png, span, forSpan);
      }
    }
    return chosen(midpoint, span, forSpan);
  }

  /**
   * The midpoint frame and the animated preview's samples from one ffmpeg run, where the preview
   * would take its samples in one pass from a known keyframe anyway (a short clip with far-apart
   * keyframes: `AnimatedPreviewMaker.plan`) and the midpoint lies among them: the run that
   * decodes up to the last sample has decoded the midpoint on the way. On a 10 s 1080p clip with
   * one keyframe, ffmpeg and ffprobe took 1.01 s of CPU per video before, 0.83 s after. The samples
   * come out at the thumbnail frame's size (the preview crops them down), one decoder thread as the
   * preview's own pass. Anything short of every frame (a damaged stretch, a stream that ends early,
   * the midpoint and a sample within one frame) gives no frames: the frame is then taken the usual
   * way, a failure described as usual. The plan is handed on either way, so that the preview does
   * not read the keyframes again.
   */
  private async sharedRun(request: FrameRequest, sampling: SamplingRequest, midpoint: number): Promise<SharedRun | undefined> {
    const plan = await this.animated.plan(sampling);
    if (!plan) return undefined;
    const sampleAt = plan.times;
    if (!sharesPass(plan) || midpoint < sampleAt[0] || midpoint > sampleAt[sampleAt.length - 1]) return { plan };
    const at = sampleAt.filter((time) => time <= midpoint).length;
    const times = [...sampleAt.slice(0, at), midpoint, ...sampleAt.slice(at)];
    const pngs = await this.frames.extractSeries({ ...request, seconds: sampleAt[0], threads: 1, times }).catch((error: Error) => {
      if (request.signal.aborted) throw error;
      return [];
    });
    if (pngs.length !== times.length) return { plan };
    return { plan, midpoint: pngs[at], samples: [...pngs.slice(0, at), ...pngs.slice(at + 1)] };
  }

  /**
   * A clip of one picture (a still saved as video, a one-frame clip): no seek past its timestamp
   * finds it, so it was taken from the start; it is the thumbnail's frame and the animated
   * preview's one frame as well.
   */
  private onlyFrame(frame: ChosenFrame): ChosenFrame {
    return { ...frame, samples: [frame.png], plan: undefined };
  }

  /** The first frame at or after `seconds`, decoding the stream from its start (no input seek). */
  private async decodedUpTo(request: Omit<FrameRequest, 'seconds'>, seconds: number): Promise<ExtractedFrame> {
    const [png] = await this.frames.extractSeries({ ...request, seconds: null, times: [seconds] }).catch((error: Error) => {
      if (request.signal.aborted) throw error;
      return [];
    });
    return { png: png ?? null, stderr: '' };
  }

  private required(grab: ExtractedFrame, file: string): Buffer {
    if (grab.png) return grab.png;
    if (grab.stderr.trim() !== '') throw describeVideoFailure(grab.stderr, inputPath(file));
    throw new UnprocessableMediaError('The video has no frame that could be decoded.', 'undecodable');
  }

  /**
   * The stream's time span read from its packets; undefined when it has none with a timestamp. One
   * timestamp (a single picture) lasts as long as its packet says.
   */
  private async measuredSpan(
    file: string,
    probe: ProbeResult,
    stream: ProbedStream,
    signal: AbortSignal,
  ): Promise<MeasuredSpan | undefined> {
    const packets = await this.ffprobe.packetSpan(file, stream.index, signal);
    if (!packets) return undefined;
    const origin = probe.startSeconds ?? packets.first;
    const oneFrame = packets.last === packets.first;
    const duration = oneFrame ? (packets.lastDuration ?? 0) : packets.last - packets.first;
    return { start: Math.max(0, packets.first - origin), duration: Math.max(0, duration), oneFrame };
  }

  /** Refuses, from the header alone, frames too big to decode safely (or with no size at all). */
  private assertDecodable(stream: ProbedStream): void {
    const { width, height } = stream;
    if (width <= 0 || height <= 0) {
      throw new UnprocessableMediaError(
        'The video stream does not say how big its picture is (its header is damaged or its size is impossible).',
        'undecodable',
      );
    }
    const { maxInputPixels, maxVideoPixels } = this.config.thumbnails;
    const tooBig = pixelLimitError('video', width, height, Math.min(maxInputPixels, maxVideoPixels));
    if (tooBig) throw tooBig;
  }

  private async describe(error: unknown, file: string): Promise<unknown> {
    const described = this.described(error, file);
    if (!(described instanceof UnprocessableMediaError) || !CUT_SHORT_SUSPECTS.has(described.reason)) return described;
    // ffmpeg says nothing of a file cut inside its index ("cannot determine format of input stream
    // 0:0 after EOF", or no streams at all): the container's own boxes tell.
    const box = await boxCutShort(file).catch(() => undefined);
    return box ? cutShortIn(box) : described;
  }

  private described(error: unknown, file: string): unknown {
    if (error instanceof UnprocessableMediaError) return error;
    if (error instanceof FfprobeError || error instanceof FfmpegError) return describeVideoFailure(error.stderr, inputPath(file));
    if (error instanceof FrameTooLargeError) {
      return new UnprocessableMediaError('A decoded frame of the video was larger than this service processes.', 'too_many_pixels');
    }
    if (error instanceof ToolOutputLimitError) {
      return new UnprocessableMediaError(
        'The video file describes itself at an unreasonable length; it is probably damaged.',
        'undecodable',
      );
    }
    return error;
  }
}

/** Failures that a file cut short inside its index can cause, and that are then said as truncation. */
const CUT_SHORT_SUSPECTS = new Set(['undecodable', 'no_video_stream']);

/** The failure of an MP4/MOV cut short inside its `box` (boxCutShort). */
function cutShortIn(box: string): UnprocessableMediaError {
  const where = box === 'moov' ? 'its index (the moov box)' : box === 'mdat' ? 'its data (the mdat box)' : `its ${box}`;
  return new UnprocessableMediaError(`The video file is truncated: it ends inside ${where}. Upload the complete file again.`, 'truncated');
}

/**
 * The stream to take the frame from: among the real video streams (not cover art), the one the
 * container marks as default, as a player would show it, else the first; with none, cover art.
 * (A file with a black stream first and the picture second, marked default, gave black thumbnails.)
 */
export function videoStreamOf(probe: ProbeResult): ProbedStream {
  const videos = probe.streams.filter((stream) => stream.codecType === 'video');
  const moving = videos.filter((candidate) => !candidate.attachedPicture);
  const stream = moving.find((candidate) => candidate.isDefault) ?? moving[0] ?? videos[0];
  if (stream) return stream;
  const audioOnly = probe.streams.some((candidate) => candidate.codecType === 'audio');
  throw new UnprocessableMediaError(
    audioOnly
      ? 'The file has no video stream (it contains only audio), so there is no picture to make a thumbnail from.'
      : 'The file has no video stream, so there is no picture to make a thumbnail from.',
    'no_video_stream',
  );
}

/**
 * The longest audio stream's stated duration, never more than the container's (where it states one):
 * one header alone does not make a clip hours long.
 */
function longestAudio(probe: ProbeResult): number | undefined {
  const durations = probe.streams.flatMap((stream) =>
    stream.codecType === 'audio' && stream.durationSeconds ? [stream.durationSeconds] : [],
  );
  return durations.length > 0 ? Math.min(Math.max(...durations), probe.durationSeconds ?? Infinity) : undefined;
}

/**
 * How long the file plays, as players show it: its pictures' span, or its sound where that lasts
 * longer (a clip whose video stops while the audio goes on; a song with cover art). Not the
 * container's header, which can claim anything.
 */
function playedMs(frame: ChosenFrame): number | null {
  const seconds = Math.max(frame.span?.duration ?? 0, frame.audioSeconds ?? 0);
  return seconds > 0 ? Math.round(seconds * 1000) : null;
}

/** Start and duration of the stream as the container states them, relative to the file's start. */
function knownSpan(probe: ProbeResult, stream: ProbedStream): VideoSpan | undefined {
  const duration = stream.durationSeconds ?? probe.durationSeconds;
  if (duration === undefined) return undefined;
  const origin = probe.startSeconds ?? 0;
  const start = stream.startSeconds === undefined ? 0 : Math.max(0, stream.startSeconds - origin);
  return { start, duration };
}
