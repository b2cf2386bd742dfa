import fc from 'fast-check';
import { isId, newId } from './ids';

describe('newId', () => {
  it('makes UUIDv7 strings that sort in creation order, even within one millisecond', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 2, maxLength: 200 }), (steps) => {
        let now = Date.now() + 10_000_000;
        const ids = steps.map((step) => newId((now += step)));
        expect(ids.every(isId)).toBe(true);
        expect([...ids].sort()).toEqual(ids);
        expect(new Set(ids).size).toBe(ids.length);
        expect(ids.every((id) => id[14] === '7' && '89ab'.includes(id[19]))).toBe(true);
      }),
      { numRuns: 100 },
    );
  });
});
