import { MAX_JSON_DEPTH, nestedDeeperThan } from './body-guards';

describe('nestedDeeperThan (the JSON depth limit, walked without recursion)', () => {
  const nested = (levels: number): unknown => {
    let value: unknown = 'leaf';
    for (let i = 0; i < levels; i++) value = i % 2 === 0 ? [value] : { key: value };
    return value;
  };

  it('counts objects and arrays within each other, not scalars', () => {
    expect(nestedDeeperThan(nested(MAX_JSON_DEPTH), MAX_JSON_DEPTH)).toBe(false);
    expect(nestedDeeperThan(nested(MAX_JSON_DEPTH + 1), MAX_JSON_DEPTH)).toBe(true);
    for (const scalar of [undefined, null, 'text', 3, true]) expect(nestedDeeperThan(scalar, 0)).toBe(false);
    expect(nestedDeeperThan({}, 1)).toBe(false);
    expect(nestedDeeperThan({}, 0)).toBe(true);
  });

  it('is not fooled by width, and takes depths far past the call stack', () => {
    const wide = Object.fromEntries(Array.from({ length: 10_000 }, (_, i) => [`k${i}`, { a: [i] }]));
    expect(nestedDeeperThan(wide, 3)).toBe(false);
    expect(nestedDeeperThan(wide, 2)).toBe(true);
    expect(nestedDeeperThan(nested(200_000), MAX_JSON_DEPTH)).toBe(true);
  });
});
