import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { pipeline } from 'node:stream/promises';
import * as stream from 'node:stream';
import { Writable } from 'node:stream';
import { Sha256Stream } from './sha256-stream';

describe('Sha256Stream', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'sha256-stream-'));
  });
  afterAll(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('hands on every byte of a file to a consumer that attaches late, and hashes the same bytes', async () => {
    const data = randomBytes(900_000);
    const file = path.join(dir, 'original');
    await fs.writeFile(file, data);
    const hashing = new Sha256Stream();
    const body = stream.pipeline(createReadStream(file), hashing, () => undefined);
    // The consumer comes after the first chunks have been read (as the disk driver makes its folder first).
    await new Promise((resolve) => setTimeout(resolve, 100));
    const received: Buffer[] = [];
    await pipeline(
      body,
      new Writable({
        write(chunk: Buffer, _encoding, done) {
          received.push(chunk);
          done();
        },
      }),
    );
    expect(Buffer.concat(received).equals(data)).toBe(true);
    expect(hashing.digest()).toBe(createHash('sha256').update(data).digest('hex'));
  });

  it('closes the file when the consumer gives up without reading (destroying the body)', async () => {
    const file = path.join(dir, 'unread');
    await fs.writeFile(file, randomBytes(900_000));
    const source = createReadStream(file);
    const closed = new Promise<void>((resolve) => source.once('close', () => resolve()));
    const body = stream.pipeline(source, new Sha256Stream(), () => undefined);
    await new Promise((resolve) => setTimeout(resolve, 50));
    body.destroy();
    await closed;
    expect(source.destroyed).toBe(true);
  });
});
