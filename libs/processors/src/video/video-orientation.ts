/** What a video stream says about how its stored frames are to be shown. */
export interface OrientationMetadata {
  /** The 3×3 display matrix as ffprobe prints it (row-major, 16.16 fixed point), when present. */
  displayMatrix?: readonly number[];
  /** ffprobe's display-matrix side data "rotation": degrees counter-clockwise. */
  rotation?: number;
  /** The legacy stream tag "rotate" (ffprobe before 5.0, some muxers): degrees clockwise. */
  rotateTag?: number;
}

export type QuarterTurns = 0 | 90 | 180 | 270;

/** How to turn a stored frame into the displayed one. */
export interface VideoOrientation {
  /** Clockwise rotation, degrees, applied after the mirror when `mirrored`. */
  rotation: QuarterTurns;
  /** Whether the frame is mirrored left-right before the rotation. */
  mirrored: boolean;
  /** Whether the displayed frame's width is the stored frame's height. */
  swapsAxes: boolean;
  /** ffmpeg filters doing exactly that (empty when the frame is shown as stored). */
  filters: readonly string[];
}

const UPRIGHT: VideoOrientation = { rotation: 0, mirrored: false, swapsAxes: false, filters: [] };

/**
 * The eight ways a display matrix can turn a frame by quarter turns and mirrors, keyed by the
 * signs of its 2×2 part (a, b, c, d). A display matrix maps a stored point (x, y), origin at the
 * centre and y pointing down, to (a·x + c·y, b·x + d·y): the row-vector convention of ISO/IEC
 * 14496-12 `tkhd` and of libavutil/display.h. Each entry gives the ffmpeg filters that move pixels
 * the same way (`transpose=clock` is (x, y) → (−y, x), `cclock_flip` is (x, y) → (y, x)).
 */
const BY_MATRIX_SIGNS: Readonly<Record<string, VideoOrientation>> = {
  '1,0,0,1': UPRIGHT,
  '0,1,-1,0': { rotation: 90, mirrored: false, swapsAxes: true, filters: ['transpose=clock'] },
  '-1,0,0,-1': { rotation: 180, mirrored: false, swapsAxes: false, filters: ['hflip', 'vflip'] },
  '0,-1,1,0': { rotation: 270, mirrored: false, swapsAxes: true, filters: ['transpose=cclock'] },
  '-1,0,0,1': { rotation: 0, mirrored: true, swapsAxes: false, filters: ['hflip'] },
  '0,-1,-1,0': { rotation: 90, mirrored: true, swapsAxes: true, filters: ['transpose=clock_flip'] },
  '1,0,0,-1': { rotation: 180, mirrored: true, swapsAxes: false, filters: ['vflip'] },
  '0,1,1,0': { rotation: 270, mirrored: true, swapsAxes: true, filters: ['transpose=cclock_flip'] },
};

const BY_CLOCKWISE_TURN: Readonly<Record<QuarterTurns, VideoOrientation>> = {
  0: BY_MATRIX_SIGNS['1,0,0,1'],
  90: BY_MATRIX_SIGNS['0,1,-1,0'],
  180: BY_MATRIX_SIGNS['-1,0,0,-1'],
  270: BY_MATRIX_SIGNS['0,-1,1,0'],
};

/**
 * The orientation to apply to decoded frames. The display matrix wins (it is what players and
 * ffmpeg's own autorotation follow, mirrors included); then ffprobe's rotation of it; then the
 * legacy `rotate` tag. Angles that are not quarter turns are rounded to the nearest one.
 */
export function orientationOf(metadata: OrientationMetadata): VideoOrientation {
  const matrix = metadata.displayMatrix;
  if (matrix && matrix.length >= 5) {
    const fromMatrix = fromDisplayMatrix(matrix[0], matrix[1], matrix[3], matrix[4]);
    if (fromMatrix) return fromMatrix;
  }
  if (metadata.rotation !== undefined && Number.isFinite(metadata.rotation)) {
    return BY_CLOCKWISE_TURN[nearestQuarterTurn(-metadata.rotation)];
  }
  if (metadata.rotateTag !== undefined && Number.isFinite(metadata.rotateTag)) {
    return BY_CLOCKWISE_TURN[nearestQuarterTurn(metadata.rotateTag)];
  }
  return UPRIGHT;
}

function fromDisplayMatrix(a: number, b: number, c: number, d: number): VideoOrientation | undefined {
  const scale = Math.max(Math.abs(a), Math.abs(b), Math.abs(c), Math.abs(d));
  if (!(scale > 0)) return undefined;
  const exact = BY_MATRIX_SIGNS[[a, b, c, d].map((v) => signOf(v, scale)).join(',')];
  if (exact) return exact;
  // A rotation by an odd angle (or a skew): the nearest quarter turn, mirrored when the determinant says so.
  const clockwise = (Math.atan2(b, a) * 180) / Math.PI;
  const turn = BY_CLOCKWISE_TURN[nearestQuarterTurn(clockwise)];
  return a * d - b * c < 0 ? mirrorOf(turn) : turn;
}

function mirrorOf(turn: VideoOrientation): VideoOrientation {
  const match = Object.values(BY_MATRIX_SIGNS).find((o) => o.mirrored && o.rotation === turn.rotation);
  return match ?? turn;
}

/** −1, 0 or 1; entries far below the matrix's scale count as 0 (fixed-point rounding). */
function signOf(value: number, scale: number): number {
  if (Math.abs(value) < scale / 2) return 0;
  return value < 0 ? -1 : 1;
}

export function nearestQuarterTurn(degrees: number): QuarterTurns {
  const turns = Math.round(degrees / 90);
  return ((((turns % 4) + 4) % 4) * 90) as QuarterTurns;
}

/**
 * ffprobe's text form of a display matrix ("\n00000000:   0   65536   0\n00000001: …") → its nine
 * numbers, or undefined when it is not one.
 */
export function parseDisplayMatrix(text: string | undefined): number[] | undefined {
  if (!text) return undefined;
  const numbers = text
    .split('\n')
    .map((line) => line.replace(/^\s*[0-9a-f]+:/i, ''))
    .join(' ')
    .trim()
    .split(/\s+/)
    .filter((token) => token !== '')
    .map(Number);
  return numbers.length === 9 && numbers.every(Number.isFinite) ? numbers : undefined;
}
