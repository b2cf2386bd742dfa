import fc from 'fast-check';
import { nearestQuarterTurn, orientationOf, parseDisplayMatrix } from './video-orientation';

type Point = readonly [number, number];
type Matrix = readonly [number, number, number, number];

/**
 * What each ffmpeg filter does to a pixel's position (origin at the centre, y pointing down), per
 * the ffmpeg filter documentation: written here independently of the code under test.
 */
const FILTER_MOVES: Record<string, (p: Point) => Point> = {
  hflip: ([x, y]) => [-x, y],
  vflip: ([x, y]) => [x, -y],
  'transpose=cclock_flip': ([x, y]) => [y, x],
  'transpose=clock': ([x, y]) => [-y, x],
  'transpose=cclock': ([x, y]) => [y, -x],
  'transpose=clock_flip': ([x, y]) => [-y, -x],
};

/** Where a display matrix (a, b, c, d; ISO/IEC 14496-12 row-vector convention) shows a stored point. */
function shownAt([a, b, c, d]: Matrix, [x, y]: Point): Point {
  return [a * x + c * y, b * x + d * y];
}

function applyFilters(filters: readonly string[], point: Point): Point {
  return filters.reduce((p, filter) => {
    const move = FILTER_MOVES[filter];
    if (!move) throw new Error(`unexpected filter ${filter}`);
    return move(p);
  }, point);
}

/** The eight quarter-turn/mirror matrices. */
const QUARTER_TURN_MATRICES: Matrix[] = [
  [1, 0, 0, 1],
  [0, 1, -1, 0],
  [-1, 0, 0, -1],
  [0, -1, 1, 0],
  [-1, 0, 0, 1],
  [1, 0, 0, -1],
  [0, 1, 1, 0],
  [0, -1, -1, 0],
];
const CORNERS: Point[] = [
  [-1, -1],
  [1, -1],
  [-1, 1],
  [1, 1],
];

function asFfprobeMatrix([a, b, c, d]: Matrix, scale: number): number[] {
  return [a * scale, b * scale, 0, c * scale, d * scale, 0, 0, 0, 1 << 30];
}

describe('orientationOf', () => {
  describe('Property: the filters move every pixel where the display matrix shows it', () => {
    it('holds for every quarter turn and mirror, at any fixed-point scale, with rounding noise', () => {
      fc.assert(
        fc.property(
          fc.constantFrom(...QUARTER_TURN_MATRICES),
          fc.integer({ min: 4096, max: 8 * 65536 }),
          fc.array(fc.integer({ min: -3, max: 3 }), { minLength: 4, maxLength: 4 }),
          (matrix, scale, noise) => {
            const raw = asFfprobeMatrix(matrix, scale);
            [0, 1, 3, 4].forEach((index, i) => (raw[index] += noise[i]));
            const orientation = orientationOf({ displayMatrix: raw });
            for (const corner of CORNERS) {
              expect(applyFilters(orientation.filters, corner)).toEqual(shownAt(matrix, corner));
            }
            expect(orientation.swapsAxes).toBe(matrix[0] === 0);
            expect(orientation.mirrored).toBe(matrix[0] * matrix[3] - matrix[1] * matrix[2] < 0);
          },
        ),
        { numRuns: 300 },
      );
    });
  });

  describe('Property: rotation angles read as the nearest quarter turn', () => {
    it('turns clockwise by the rotate tag and counter-clockwise by ffprobe side-data rotation', () => {
      fc.assert(
        fc.property(fc.integer({ min: -8, max: 8 }), fc.double({ min: -40, max: 40, noNaN: true }), (turns, wobble) => {
          const degrees = turns * 90 + wobble;
          const clockwise = (((turns % 4) + 4) % 4) * 90;
          expect(orientationOf({ rotateTag: degrees }).rotation).toBe(clockwise);
          expect(orientationOf({ rotation: -degrees }).rotation).toBe(clockwise);
          expect(nearestQuarterTurn(degrees)).toBe(clockwise);
        }),
        { numRuns: 200 },
      );
    });
  });

  it('rotates a phone video (display matrix of a clockwise quarter turn, ffprobe rotation -90) clockwise', () => {
    const phone = orientationOf({ displayMatrix: asFfprobeMatrix([0, 1, -1, 0], 65536), rotation: -90 });
    expect(phone).toMatchObject({ rotation: 90, mirrored: false, swapsAxes: true, filters: ['transpose=clock'] });
  });

  it('prefers the display matrix over the rotation number and the legacy tag', () => {
    const orientation = orientationOf({ displayMatrix: asFfprobeMatrix([-1, 0, 0, 1], 65536), rotation: 90, rotateTag: 270 });
    expect(orientation.filters).toEqual(['hflip']);
    expect(orientationOf({ rotation: 90, rotateTag: 90 }).filters).toEqual(['transpose=cclock']);
    expect(orientationOf({ rotateTag: 90 }).filters).toEqual(['transpose=clock']);
  });

  it('leaves frames without orientation metadata, or with a degenerate matrix, as they are', () => {
    expect(orientationOf({}).filters).toEqual([]);
    expect(orientationOf({ displayMatrix: [0, 0, 0, 0, 0, 0, 0, 0, 1 << 30] }).filters).toEqual([]);
    expect(orientationOf({ rotation: Number.NaN }).filters).toEqual([]);
  });
});

describe('parseDisplayMatrix', () => {
  it('reads ffprobe 5.1 and 6.x output', () => {
    const text =
      '\n00000000:            0      -65536           0\n00000001:        65536           0           0\n00000002:            0           0  1073741824\n';
    expect(parseDisplayMatrix(text)).toEqual([0, -65536, 0, 65536, 0, 0, 0, 0, 1073741824]);
  });

  it('refuses what is not nine numbers', () => {
    expect(parseDisplayMatrix(undefined)).toBeUndefined();
    expect(parseDisplayMatrix('')).toBeUndefined();
    expect(parseDisplayMatrix('\n00000000: 0 1 2\n')).toBeUndefined();
    expect(parseDisplayMatrix('rotation of -90.00 degrees')).toBeUndefined();
  });
});
