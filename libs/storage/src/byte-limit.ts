import { Transform, TransformCallback } from 'node:stream';
import { ObjectTooLargeError } from './storage.driver';

/** Passes bytes through, counting them; errors with ObjectTooLargeError past `maxBytes`. */
export class ByteLimit extends Transform {
  bytes = 0;

  constructor(private readonly maxBytes = Number.POSITIVE_INFINITY) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.bytes > this.maxBytes) callback(new ObjectTooLargeError(this.maxBytes));
    else callback(null, chunk);
  }
}
