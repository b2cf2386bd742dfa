import { createHash, Hash } from 'node:crypto';
import { Transform, TransformCallback } from 'node:stream';

/**
 * Passes bytes through unchanged and keeps their SHA-256, for hashing a file on its way into
 * storage. A `'data'` listener on the source would do the same only if the consumer were already
 * attached: it switches the source to flowing mode at once, and whatever flows before the consumer
 * pipes (the disk driver first makes its folder) is hashed but never stored.
 */
export class Sha256Stream extends Transform {
  private readonly hash: Hash = createHash('sha256');

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.hash.update(chunk);
    done(null, chunk);
  }

  /** The hex digest of everything that went through (call once, after the end). */
  digest(): string {
    return this.hash.digest('hex');
  }
}
