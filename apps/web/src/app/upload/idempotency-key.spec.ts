import { newIdempotencyKey } from './idempotency-key';

describe('newIdempotencyKey', () => {
  it('is 128 random bits in hex, which the API accepts (1-255 visible ASCII characters)', () => {
    const key = newIdempotencyKey();
    expect(key).toMatch(/^[0-9a-f]{32}$/);
  });

  it('is new every time', () => {
    const keys = new Set(Array.from({ length: 1000 }, () => newIdempotencyKey()));
    expect(keys.size).toBe(1000);
  });

  it('needs only getRandomValues (randomUUID is missing on plain-HTTP origins)', () => {
    const random = {
      getRandomValues: <T extends ArrayBufferView | null>(array: T) => (
        new Uint8Array((array as unknown as Uint8Array).buffer).fill(171),
        array
      ),
    };
    expect(newIdempotencyKey(random as Pick<Crypto, 'getRandomValues'>)).toBe('ab'.repeat(16));
  });
});
