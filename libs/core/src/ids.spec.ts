import fc from 'fast-check';
import { isId, newId } from './ids';

describe('newId', () => {
  it('makes UUIDv7 strings that sort in creation order, even many within one millisecond', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 2000 }), (count) => {
        const ids = Array.from({ length: count }, () => newId());
        expect(ids.every(isId)).toBe(true);
        expect([...ids].sort()).toEqual(ids);
        expect(new Set(ids).size).toBe(ids.length);
        expect(ids.every((id) => id[14] === '7' && '89ab'.includes(id[19]))).toBe(true);
      }),
      { numRuns: 100 },
    );
  });

  it('puts the time of making first', () => {
    const before = Date.now();
    const id = newId();
    const millis = Number.parseInt(id.replace(/-/g, '').slice(0, 12), 16);
    expect(millis).toBeGreaterThanOrEqual(before);
    expect(millis).toBeLessThanOrEqual(Date.now() + 1);
  });
});
