import type { MediaCapabilities } from '../media-tools/media-tools';
import type { ProbedStream } from './ffprobe';
import { orientationOf } from './video-orientation';

/** HDR transfer functions a frame may use. */
export type HdrTransfer = 'pq' | 'hlg';

/**
 * Tone mapping, chosen so that SDR-range content in an HDR file keeps its brightness (measured
 * against SDR sources converted to PQ and HLG, see the video spec): linear light with BT.2408's
 * reference white (203 cd/m²) as 1.0, so HLG's 75 % signal and PQ's 203-nit level come out near
 * white (245 of 255), where hable or reinhard would darken everything by a third; `mobius` leaves
 * values up to 0.8 of reference white as they are and rolls off above, up to a 1000-nit peak (the
 * usual mastering level and HLG's nominal display peak); no desaturation of in-range colours.
 */
const REFERENCE_WHITE_NITS = 203;
const TONE_MAP = `tonemap=tonemap=mobius:param=0.8:peak=${(1000 / REFERENCE_WHITE_NITS).toFixed(3)}:desat=0`;

export function hdrTransferOf(stream: ProbedStream): HdrTransfer | undefined {
  if (stream.colour.transfer === 'smpte2084') return 'pq';
  if (stream.colour.transfer === 'arib-std-b67') return 'hlg';
  return undefined;
}

/** The libvpx decoder that keeps the stream's alpha channel, when it has one and this ffmpeg has the decoder. */
export function alphaDecoderOf(stream: ProbedStream, capabilities: MediaCapabilities): string | undefined {
  if (!stream.alpha) return undefined;
  if (stream.codecName === 'vp9' && capabilities.alphaDecoders.vp9) return 'libvpx-vp9';
  if (stream.codecName === 'vp8' && capabilities.alphaDecoders.vp8) return 'libvpx';
  return undefined;
}

/** ffmpeg pixel formats with an alpha plane (yuva444p10le, gbrap12le, rgba64be, argb, ya8…). */
const ALPHA_PIXEL_FORMAT = /^(yuva|gbrap|ya(8|16)|rgba|bgra|argb|abgr|ayuv|vuya)/;

/**
 * Whether the decoded frames carry alpha: a WebM's VP8/VP9 through libvpx (`decoder`), or any stream
 * whose own decoder gives an alpha plane (ProRes 4444, QuickTime Animation, PNG or FFV1 in MOV/MKV…).
 * Their transparency is kept to be flattened onto white like an image's.
 */
export function decodesAlpha(stream: ProbedStream, decoder: string | undefined): boolean {
  return decoder !== undefined || ALPHA_PIXEL_FORMAT.test(stream.pixelFormat ?? '');
}

/**
 * Filters from the decoded (already scaled) frame to 8-bit RGB(A) BT.709: HDR is tone-mapped with
 * zscale + tonemap when the build has them (the stream's own colour description given explicitly,
 * since frames do not always carry it), else converted with the BT.2020 matrix only (washed out,
 * but the right shapes and hues; health says so).
 */
export function colourFilters(stream: ProbedStream, capabilities: MediaCapabilities, alpha: boolean): string[] {
  const output = alpha ? 'rgba' : 'rgb24';
  const hdr = hdrTransferOf(stream);
  if (!hdr) return [`format=${output}`];
  const matrix = stream.colour.matrix ?? 'bt2020nc';
  const range = stream.colour.range === 'pc' ? 'pc' : 'tv';
  if (!capabilities.toneMapping) return [`scale=in_color_matrix=bt2020:in_range=${range === 'pc' ? 'full' : 'tv'}`, `format=${output}`];
  return [
    `zscale=tin=${stream.colour.transfer}:min=${matrix}:pin=${stream.colour.primaries ?? 'bt2020'}:rin=${range}:t=linear:npl=${REFERENCE_WHITE_NITS}:p=bt709`,
    'format=gbrpf32le',
    TONE_MAP,
    'zscale=tin=linear:pin=bt709:min=gbr:t=bt709:p=bt709',
    `format=${output}`,
  ];
}

export interface FrameSizes {
  thumbnailSize: number;
  previewSize: number;
}

/**
 * Filters and output bound for one frame: deinterlaced, square pixels (anamorphic video is stretched back),
 * shrunk to what the renditions need (the preview's long edge, a short side of at least the 2×
 * square, never enlarged: the same rule as decodeSize for images), then colour (tone mapping on
 * the small frame, which is where it is cheap), then the display orientation.
 */
export function frameShape(
  stream: ProbedStream,
  sizes: FrameSizes,
  capabilities?: MediaCapabilities,
  alpha = false,
): { filters: string[]; maxBytes: number } {
  const square = 2 * sizes.thumbnailSize;
  const preview = sizes.previewSize;
  const long = 'max(iw*sar,ih)';
  const short = 'min(iw*sar,ih)';
  const factor = `min(1,max(${preview}/${long},min(${square}/${short},${4 * square}/${long})))`;
  // zscale refuses 4:2:0 frames of odd width or height: tone-mapped frames are scaled to even sizes.
  const even = hdrTransferOf(stream) !== undefined && capabilities?.toneMapping === true;
  const dimension = (expression: string): string => (even ? `max(2,trunc(${expression}/2)*2)` : `max(1,trunc(${expression}))`);
  const filters = [
    // Interlaced frames are deinterlaced first (those flagged so): scaled as they are, their two
    // fields' motion shows as combing, or two pictures blended.
    ...(stream.interlaced ? ['yadif=deint=interlaced'] : []),
    `scale=w='${dimension(`iw*sar*${factor}`)}':h='${dimension(`ih*${factor}`)}':flags=area`,
    'setsar=1',
    ...colourFilters(stream, capabilities ?? { toneMapping: false, alphaDecoders: { vp8: false, vp9: false } }, alpha),
    ...orientationOf(stream.orientation).filters,
  ];
  // RGBA bytes of the largest frame the rule lets through, plus PNG's per-row and zlib overhead.
  const edge = Math.max(preview, 4 * square);
  const maxBytes = Math.ceil(edge * edge * 4 * 1.01) + 64 * 1024;
  return { filters, maxBytes };
}

/** The size a stream's frames are shown at: square pixels, rotation applied. */
export function displayedSize(stream: ProbedStream): { width: number; height: number } {
  const width = Math.max(1, Math.round(stream.width * stream.sampleAspectRatio));
  return orientationOf(stream.orientation).swapsAxes ? { width: stream.height, height: width } : { width, height: stream.height };
}
