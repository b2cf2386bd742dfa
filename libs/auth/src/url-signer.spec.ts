import fc from 'fast-check';
import type { AppConfig } from '@app/core';
import { UrlSigner } from './url-signer';

const config = (secret: string, ttl = 3600) => ({ auth: { jwtSecret: secret, signedUrlTtlSeconds: ttl } }) as unknown as AppConfig;

describe('UrlSigner', () => {
  const signer = new UrlSigner(config('s'.repeat(40)));

  it('verifies what it signed, until it expires', () => {
    const now = Date.now();
    const { exp, sig } = signer.sign('thumbnail', 'job-1', 'user-1', now);
    expect(exp * 1000).toBeGreaterThanOrEqual(now + 3600_000);
    expect(exp * 1000).toBeLessThanOrEqual(now + 3600_000 + 900_000);
    expect(signer.verify('thumbnail', 'job-1', 'user-1', String(exp), sig, now)).toBe(true);
    expect(signer.verify('thumbnail', 'job-1', 'user-1', String(exp), sig, exp * 1000 + 1)).toBe(false);
  });

  it('rejects any change of resource, job, owner, expiry or signature, and another secret', () => {
    const now = Date.now();
    const other = new UrlSigner(config('t'.repeat(40)));
    fc.assert(
      fc.property(fc.string({ minLength: 1 }), fc.string({ minLength: 1 }), fc.string(), (jobId, ownerId, noise) => {
        const { exp, sig } = signer.sign('thumbnail', jobId, ownerId, now);
        expect(signer.verify('thumbnail', jobId, ownerId, String(exp), sig, now)).toBe(true);
        expect(signer.verify('download', jobId, ownerId, String(exp), sig, now)).toBe(false);
        expect(signer.verify('thumbnail', `${jobId}x`, ownerId, String(exp), sig, now)).toBe(false);
        expect(signer.verify('thumbnail', jobId, `${ownerId}x`, String(exp), sig, now)).toBe(false);
        expect(signer.verify('thumbnail', jobId, ownerId, String(exp + 1), sig, now)).toBe(false);
        if (noise !== '') expect(signer.verify('thumbnail', jobId, ownerId, String(exp), sig + noise, now)).toBe(false);
        expect(other.verify('thumbnail', jobId, ownerId, String(exp), sig, now)).toBe(false);
        expect(signer.verify('thumbnail', jobId, ownerId, undefined, sig, now)).toBe(false);
        expect(signer.verify('thumbnail', jobId, ownerId, [String(exp)], sig, now)).toBe(false);
      }),
      { numRuns: 200 },
    );
  });

  it('gives the same URL for a while, so browsers can cache thumbnails', () => {
    const now = Date.parse('2026-01-01T00:01:00Z');
    expect(signer.sign('thumbnail', 'j', 'u', now)).toEqual(signer.sign('thumbnail', 'j', 'u', now + 60_000));
  });
});
