import { Injectable } from '@nestjs/common';
import { createHmac, hkdfSync } from 'node:crypto';
import { AppConfig, sameSecret } from '@app/core';

/** What a signed URL opens: each rendition, the thumbnail as a download, and the original. */
export const SIGNED_RESOURCES = ['thumbnail', 'download', 'thumbnail2x', 'preview', 'animatedPreview', 'original'] as const;
export type SignedResource = (typeof SIGNED_RESOURCES)[number];

/**
 * Signed, expiring URLs for renditions, downloads and originals, so an <img> or <video> tag works without an
 * Authorization header. The signature binds resource, job and owner; the expiry is rounded up to
 * a window so a URL stays the same (and cacheable) for a while.
 */
@Injectable()
export class UrlSigner {
  private readonly key: Buffer;
  private readonly ttlSeconds: number;

  constructor(config: AppConfig) {
    this.key = Buffer.from(hkdfSync('sha256', config.auth.jwtSecret, 'thumbs', 'signed-urls-v1', 32));
    this.ttlSeconds = config.auth.signedUrlTtlSeconds;
  }

  /** Query string (`exp=…&sig=…`) granting access to one resource of one job. */
  sign(resource: SignedResource, jobId: string, ownerId: string, nowMs = Date.now()): { exp: number; sig: string } {
    const window = Math.max(60, Math.floor(this.ttlSeconds / 4));
    const exp = Math.ceil((Math.floor(nowMs / 1000) + this.ttlSeconds) / window) * window;
    return { exp, sig: this.signature(resource, jobId, ownerId, exp) };
  }

  verify(resource: SignedResource, jobId: string, ownerId: string, exp: unknown, sig: unknown, nowMs = Date.now()): boolean {
    if (typeof exp !== 'string' || typeof sig !== 'string' || !/^\d{1,12}$/.test(exp)) return false;
    if (Number(exp) * 1000 < nowMs) return false;
    return sameSecret(sig, this.signature(resource, jobId, ownerId, Number(exp)));
  }

  private signature(resource: SignedResource, jobId: string, ownerId: string, exp: number): string {
    return createHmac('sha256', this.key).update(`${resource}\n${jobId}\n${ownerId}\n${exp}`).digest('base64url');
  }
}
