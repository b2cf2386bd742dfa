import fc from 'fast-check';
import { pixelLimitError } from './pixel-limit';

const numbers = (message: string) => /\(([\d.]+) MP(?: per frame)?\), above this service's limit of ([\d.]+) MP\.$/.exec(message);

describe('pixelLimitError', () => {
  it('says one decimal where that tells the size from the limit, as before', () => {
    expect(pixelLimitError('video', 16000, 16000, 40_000_000)?.message).toBe(
      "The video is 16000×16000 pixels (256 MP per frame), above this service's limit of 40 MP.",
    );
    expect(pixelLimitError('image', 12000, 9000, 100_000_000)?.message).toBe(
      "The image is 12000×9000 pixels (108 MP), above this service's limit of 100 MP.",
    );
    expect(pixelLimitError('image', 10000, 10000, 100_000_000)).toBeNull();
  });

  it('says more decimals where one would show the same number twice, or a limit of 0 MP', () => {
    expect(pixelLimitError('image', 10000, 10001, 100_000_000)?.message).toBe(
      "The image is 10000×10001 pixels (100.01 MP), above this service's limit of 100 MP.",
    );
    expect(pixelLimitError('image', 320, 200, 10_000)?.message).toBe(
      "The image is 320×200 pixels (0.06 MP), above this service's limit of 0.01 MP.",
    );
    expect(pixelLimitError('video', 96, 54, 5000)?.message).toBe(
      "The video is 96×54 pixels (0.0052 MP per frame), above this service's limit of 0.005 MP.",
    );
  });

  it('Property: over the limit, the size shown is always larger than the limit shown, which is never 0', () => {
    const side = fc.integer({ min: 1, max: 65_535 });
    // Most often just over the limit, where rounding would show the same number twice.
    const over = fc.oneof(fc.integer({ min: 1, max: 1000 }), fc.integer({ min: 1, max: 4e9 }));
    fc.assert(
      fc.property(side, side, over, (width, height, excess) => {
        const limit = Math.max(1, width * height - excess);
        fc.pre(width * height > limit);
        const match = numbers(pixelLimitError('image', width, height, limit)?.message ?? '');
        expect(match).not.toBeNull();
        expect(Number(match![1])).toBeGreaterThan(Number(match![2]));
        expect(match![2]).not.toBe('0');
      }),
      { numRuns: 1000 },
    );
  });
});
