import fc from 'fast-check';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ObjectTooLargeError } from '../storage.driver';
import { BATCH_BYTES, FileSink } from './file-sink';

describe('FileSink', () => {
  let dir: string;
  beforeAll(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'file-sink-'))));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('writes exactly the bytes it is given, whatever the chunking (property)', async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(fc.integer({ min: 0, max: 3 * BATCH_BYTES }), { maxLength: 6 }), async (sizes) => {
        const chunks = sizes.map((size, index) => Buffer.alloc(size, (index * 37 + size) % 251));
        const file = path.join(dir, `run-${(run += 1)}`);
        const sink = new FileSink(file);
        await pipeline(Readable.from(chunks), sink);
        expect(sink.bytes).toBe(sizes.reduce((sum, size) => sum + size, 0));
        expect(fs.readFileSync(file).equals(Buffer.concat(chunks))).toBe(true);
        fs.rmSync(file);
      }),
      { numRuns: 100 },
    );
    // Up to 18 MiB written and read back per run: 2.5 s alone, past Jest's 5 s default on a busy machine.
  }, 60_000);

  it('fails past maxBytes', async () => {
    const file = path.join(dir, 'too-large');
    const sink = new FileSink(file, 10);
    await expect(pipeline(Readable.from([Buffer.alloc(6), Buffer.alloc(6)]), sink)).rejects.toBeInstanceOf(ObjectTooLargeError);
    expect(sink.bytes).toBe(12);
  });

  it('creates the file with the given mode', async () => {
    const file = path.join(dir, 'mode');
    await pipeline(Readable.from([Buffer.from('x')]), new FileSink(file, undefined, 0o600));
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
  });

  it('fails when the file cannot be created', async () => {
    await expect(pipeline(Readable.from([Buffer.from('x')]), new FileSink(path.join(dir, 'missing', 'file')))).rejects.toMatchObject({
      code: 'ENOENT',
    });
  });
});
