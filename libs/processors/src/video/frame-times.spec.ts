import fc from 'fast-check';
import { CANDIDATE_FRACTIONS, candidateTimes } from './frame-times';

describe('candidateTimes', () => {
  describe('Property 21: midpoint frame extraction (the times tried)', () => {
    it('tries duration / 2 first, then a bounded number of distinct times inside the stream', () => {
      fc.assert(
        fc.property(fc.double({ min: 0, max: 1e5, noNaN: true }), fc.double({ min: 1e-3, max: 1e5, noNaN: true }), (start, duration) => {
          const times = candidateTimes({ start, duration });
          expect(times[0]).toBeCloseTo(start + duration / 2, 9);
          expect(times.length).toBeLessThanOrEqual(CANDIDATE_FRACTIONS.length);
          for (const time of times) {
            expect(time).toBeGreaterThanOrEqual(start);
            expect(time).toBeLessThan(start + duration);
          }
          expect(new Set(times).size).toBe(times.length);
        }),
        { numRuns: 1000 },
      );
    });
  });

  it('looks a little later before looking earlier', () => {
    expect(candidateTimes({ start: 0, duration: 10 })).toEqual([5, 6, 7, 8, 4]);
    expect(candidateTimes({ start: 2, duration: 10 })).toEqual([7, 8, 9, 10, 6]);
  });

  it('takes the start when the duration is zero or unknown', () => {
    expect(candidateTimes({ start: 0, duration: 0 })).toEqual([0]);
    expect(candidateTimes({ start: 1.5, duration: Number.NaN })).toEqual([1.5]);
  });
});
