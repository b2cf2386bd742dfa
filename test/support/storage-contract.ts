/// <reference types="jest" />
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { InvalidKeyError, ObjectNotFoundError, ObjectTooLargeError, StorageDriver, StorageKeys } from '@app/storage';

/** One fresh, empty store for one test, with a view of what really lies in its backing store. */
export interface ContractSubject {
  driver: StorageDriver;
  /** Every object key that exists in the backing store (files under the root, objects in the bucket). */
  storedKeys(): Promise<string[]>;
  /** What a failed write could leave behind besides objects: temporary files, unfinished multipart uploads. */
  leftovers(): Promise<string[]>;
  dispose(): Promise<void>;
}

const MiB = 1024 * 1024;
/** Properties make 100–200 round trips (over HTTP to the S3 server): far past Jest's 5 s on a busy machine. */
const PROPERTY_TIMEOUT_MS = 120_000;

/**
 * The StorageDriver port's contract, run against every driver (disk, S3): the same cases, the
 * same properties. `open` is called before each test and must give an empty store.
 */
export function describeStorageContract(name: string, open: () => Promise<ContractSubject>): void {
  describe(`${name}: StorageDriver contract`, () => {
    let subject: ContractSubject;
    let storage: StorageDriver;

    beforeEach(async () => {
      subject = await open();
      storage = subject.driver;
    });

    afterEach(async () => {
      await subject.dispose();
    });

    it('streams objects in and out, reports them, and deletes them (idempotently)', async () => {
      const key = StorageKeys.original('0190a7e2-0000-7000-8000-000000000001');
      const before = Date.now();
      const stored = await storage.put(key, Readable.from([Buffer.from('hello '), Buffer.from('world')]), { contentType: 'text/plain' });
      expect(stored.size).toBe(11);
      expect((await buffer(await storage.read(key))).toString()).toBe('hello world');
      const stat = await storage.stat(key);
      expect(stat).toMatchObject({ size: 11 });
      // Object stores keep whole seconds.
      expect(stat!.modifiedAt.getTime()).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000);
      expect(await storage.withLocalFile(key, (file) => Promise.resolve(readFileSync(file, 'utf8')))).toBe('hello world');
      expect(await subject.storedKeys()).toEqual([key]);

      await storage.delete(key);
      await storage.delete(key);
      expect(await storage.stat(key)).toBeNull();
      expect(await subject.storedKeys()).toEqual([]);
      await expect(storage.read(key)).rejects.toBeInstanceOf(ObjectNotFoundError);
      await expect(storage.withLocalFile(key, () => Promise.resolve(1))).rejects.toBeInstanceOf(ObjectNotFoundError);
    });

    it('reads an inclusive byte range of an object (HTTP Range for the originals)', async () => {
      const key = StorageKeys.original('0190a7e2-0000-7000-8000-000000000015');
      const data = Buffer.from(Array.from({ length: 1000 }, (_, i) => i % 251));
      await storage.put(key, data);
      // Not `bytes=0-0`: the S3 test server (s3rver) reads an end of 0 as "to the end"; real S3 does not.
      const ranges: [number, number][] = [
        [0, 1],
        [10, 19],
        [900, 999],
        [0, 999],
      ];
      for (const [start, end] of ranges) {
        const got = await buffer(await storage.read(key, { start, end }));
        expect([start, end, got.length, got.equals(data.subarray(start, end + 1))]).toEqual([start, end, end - start + 1, true]);
      }
    });

    it('keeps every object under exactly its key, in the layout uploads/<id> and processed/<id>/thumb.jpg', async () => {
      const id = '0190a7e2-0000-7000-8000-00000000000a';
      await storage.put(StorageKeys.original(id), Buffer.from('original'));
      await storage.put(StorageKeys.thumbnail(id), Buffer.from('thumbnail'), { contentType: 'image/jpeg' });
      expect(await subject.storedKeys()).toEqual([`processed/${id}/thumb.jpg`, `uploads/${id}`]);
      expect((await buffer(await storage.read(`processed/${id}/thumb.jpg`))).toString()).toBe('thumbnail');
      // A "folder" is not an object.
      expect(await storage.stat(`processed/${id}`)).toBeNull();
      await expect(storage.read(`processed/${id}`)).rejects.toBeInstanceOf(ObjectNotFoundError);
    });

    it('lists every object under a folder with its size and time, nothing else, and refuses other prefixes', async () => {
      const ids = ['0190a7e2-0000-7000-8000-0000000000b1', '0190a7e2-0000-7000-8000-0000000000b2'];
      const before = Math.floor(Date.now() / 1000) * 1000;
      await storage.put(StorageKeys.original(ids[0]), Buffer.from('one'));
      await storage.put(StorageKeys.original(ids[1]), Buffer.from('second'));
      await storage.put(StorageKeys.rendition(ids[0], 'thumbnail'), Buffer.from('t'));
      await storage.put(StorageKeys.rendition(ids[0], 'preview'), Buffer.from('pv'));
      // A failed write's leftovers are not objects.
      await expect(
        storage.put(StorageKeys.original('0190a7e2-0000-7000-8000-0000000000b3'), Buffer.alloc(10), { maxBytes: 5 }),
      ).rejects.toThrow();
      const listed = async (prefix: string) => {
        const objects = [];
        for await (const object of storage.list(prefix)) objects.push(object);
        return objects.sort((a, b) => a.key.localeCompare(b.key));
      };
      const uploads = await listed('uploads/');
      expect(uploads.map(({ key, size }) => ({ key, size }))).toEqual([
        { key: `uploads/${ids[0]}`, size: 3 },
        { key: `uploads/${ids[1]}`, size: 6 },
      ]);
      for (const object of uploads) expect(object.modifiedAt.getTime()).toBeGreaterThanOrEqual(before);
      expect((await listed('processed/')).map(({ key }) => key)).toEqual([
        StorageKeys.rendition(ids[0], 'preview'),
        StorageKeys.rendition(ids[0], 'thumbnail'),
      ]);
      expect((await listed(`processed/${ids[1]}/`)).map(({ key }) => key)).toEqual([]);
      expect(await listed('nothing-here/')).toEqual([]);
      for (const prefix of ['uploads', '../', '/etc/', 'uploads/../', '']) {
        await expect(listed(prefix)).rejects.toBeInstanceOf(InvalidKeyError);
      }
    });

    it('replaces an object whole when it is written again (a retried thumbnail)', async () => {
      const key = StorageKeys.thumbnail('0190a7e2-0000-7000-8000-000000000003');
      await storage.put(key, Buffer.alloc(3000, 1));
      await storage.put(key, Readable.from([Buffer.alloc(10, 2)]));
      expect(await buffer(await storage.read(key))).toEqual(Buffer.alloc(10, 2));
      expect(await storage.stat(key)).toMatchObject({ size: 10 });
    });

    it('never leaves half an object: a failed or oversized write leaves nothing behind, and the previous version intact', async () => {
      const key = 'uploads/partial';
      const failing = new Readable({
        read() {
          this.push(Buffer.alloc(1000));
          this.destroy(new Error('client went away'));
        },
      });
      await expect(storage.put(key, failing)).rejects.toThrow('client went away');
      await expect(storage.put(key, Buffer.alloc(5000), { maxBytes: 4096 })).rejects.toBeInstanceOf(ObjectTooLargeError);
      await expect(storage.put(key, Readable.from([Buffer.alloc(3000), Buffer.alloc(3000)]), { maxBytes: 4096 })).rejects.toBeInstanceOf(
        ObjectTooLargeError,
      );
      expect(await storage.stat(key)).toBeNull();
      expect(await subject.storedKeys()).toEqual([]);
      expect(await subject.leftovers()).toEqual([]);

      await storage.put(key, Buffer.from('first version'));
      await expect(storage.put(key, Readable.from([Buffer.alloc(3000), Buffer.alloc(3000)]), { maxBytes: 4096 })).rejects.toBeInstanceOf(
        ObjectTooLargeError,
      );
      expect((await buffer(await storage.read(key))).toString()).toBe('first version');
      expect(await subject.leftovers()).toEqual([]);
    });

    it('streams objects larger than one upload part (12 MiB) both ways, and a large write failing midway leaves nothing', async () => {
      const key = StorageKeys.original('0190a7e2-0000-7000-8000-000000000004');
      const data = Buffer.alloc(12 * MiB);
      for (let i = 0; i < data.length; i += 4) data.writeUInt32LE(i, i);
      const chunks = Array.from({ length: 48 }, (_, i) => data.subarray(i * 256 * 1024, (i + 1) * 256 * 1024));
      expect((await storage.put(key, Readable.from(chunks), { maxBytes: 100 * MiB })).size).toBe(data.length);
      expect((await buffer(await storage.read(key))).equals(data)).toBe(true);
      expect(await storage.stat(key)).toMatchObject({ size: data.length });
      expect(await storage.withLocalFile(key, (file) => Promise.resolve(readFileSync(file).equals(data)))).toBe(true);

      // Past 7 MiB the limit trips: at least one part has been uploaded by then.
      const other = StorageKeys.original('0190a7e2-0000-7000-8000-000000000005');
      await expect(storage.put(other, Readable.from(chunks), { maxBytes: 7 * MiB })).rejects.toBeInstanceOf(ObjectTooLargeError);
      let sent = 0;
      const dropping = new Readable({
        read() {
          if (sent >= 8 * MiB) this.destroy(new Error('connection reset'));
          else this.push(data.subarray(sent, (sent += MiB)));
        },
      });
      await expect(storage.put(other, dropping)).rejects.toThrow('connection reset');
      expect(await storage.stat(other)).toBeNull();
      expect(await subject.storedKeys()).toEqual([key]);
      expect(await subject.leftovers()).toEqual([]);
    });

    it('runs withLocalFile work on a readable file, and passes its failure on with the object untouched', async () => {
      const key = StorageKeys.original('0190a7e2-0000-7000-8000-000000000006');
      await storage.put(key, Buffer.from('decode me'));
      await expect(
        storage.withLocalFile(key, (file) => {
          expect(readFileSync(file, 'utf8')).toBe('decode me');
          return Promise.reject(new Error('decoder failed'));
        }),
      ).rejects.toThrow('decoder failed');
      expect((await buffer(await storage.read(key))).toString()).toBe('decode me');
    });

    it('answers ping', async () => {
      await expect(storage.ping()).resolves.toBeUndefined();
    });

    it(
      'property: arbitrary byte payloads round-trip unchanged, whatever the chunking',
      async () => {
        const key = StorageKeys.original('0190a7e2-0000-7000-8000-000000000007');
        const payload = fc.uint8Array({ minLength: 0, maxLength: 64 * 1024 });
        const cuts = fc.array(fc.nat(), { maxLength: 8 });
        await fc.assert(
          fc.asyncProperty(payload, cuts, fc.boolean(), async (bytes, cutPoints, asBuffer) => {
            const data = Buffer.from(bytes);
            const body = asBuffer ? data : Readable.from(split(data, cutPoints));
            expect((await storage.put(key, body)).size).toBe(data.length);
            expect((await buffer(await storage.read(key))).equals(data)).toBe(true);
            expect((await storage.stat(key))?.size).toBe(data.length);
          }),
          { numRuns: 100 },
        );
        expect(await subject.storedKeys()).toEqual([key]);
      },
      PROPERTY_TIMEOUT_MS,
    );

    it(
      'property: hostile keys are refused by every operation and nothing is written',
      async () => {
        await fc.assert(
          fc.asyncProperty(hostileKey(), async (key) => {
            await expect(storage.put(key, Buffer.from('x'))).rejects.toBeInstanceOf(InvalidKeyError);
            await expect(storage.put(key, Readable.from([Buffer.from('x')]))).rejects.toBeInstanceOf(InvalidKeyError);
            await expect(storage.read(key)).rejects.toBeInstanceOf(InvalidKeyError);
            await expect(storage.stat(key)).rejects.toBeInstanceOf(InvalidKeyError);
            await expect(storage.delete(key)).rejects.toBeInstanceOf(InvalidKeyError);
            await expect(storage.withLocalFile(key, () => Promise.resolve(1))).rejects.toBeInstanceOf(InvalidKeyError);
          }),
          { numRuns: 200 },
        );
        expect(await subject.storedKeys()).toEqual([]);
      },
      PROPERTY_TIMEOUT_MS,
    );

    it(
      'property: any string is either refused as a key or stores exactly that key',
      async () => {
        const anyKey = fc.oneof(
          fc.string({ unit: 'binary', maxLength: 40 }),
          fc
            .array(fc.oneof(fc.constantFrom('uploads', 'processed', 'a', '..', '.', '', 'x.jpg', '-', '_a'), fc.string({ maxLength: 6 })), {
              minLength: 1,
              maxLength: 9,
            })
            .map((parts) => parts.join('/')),
        );
        await fc.assert(
          fc.asyncProperty(anyKey, async (key) => {
            try {
              await storage.put(key, Buffer.from(key));
            } catch (error) {
              expect(error).toBeInstanceOf(InvalidKeyError);
              expect(await subject.storedKeys()).toEqual([]);
              return;
            }
            expect(await subject.storedKeys()).toEqual([key]);
            expect((await buffer(await storage.read(key))).toString()).toBe(key);
            await storage.delete(key);
          }),
          { numRuns: 150 },
        );
      },
      PROPERTY_TIMEOUT_MS,
    );
  });
}

/** Keys that must never be accepted: traversal, absolute, empty or dot segments, separators, control bytes. */
function hostileKey(): fc.Arbitrary<string> {
  const fine = fc.constantFrom('uploads', 'processed', 'a', 'thumb.jpg', '0190a7e2-0000-7000-8000-000000000001');
  const bad = fc.constantFrom(
    '..',
    '.',
    '',
    '.tmp',
    '.hidden',
    '..\\..',
    'a\\b',
    '%2e%2e',
    'a b',
    'a\0b',
    'é',
    'C:',
    '~/',
    'a\nb',
    '*',
    '?x',
  );
  return fc.oneof(
    // At least one bad segment somewhere among good ones.
    fc
      .tuple(fc.array(fine, { maxLength: 3 }), bad, fc.array(fine, { maxLength: 3 }))
      .map(([before, b, after]) => [...before, b, ...after].join('/')),
    // Absolute paths and URLs.
    fine.map((segment) => `/${segment}`),
    fine.map((segment) => `s3://bucket/${segment}`),
    // Too deep or too long.
    fc.integer({ min: 9, max: 20 }).map((depth) => Array.from({ length: depth }, () => 'a').join('/')),
    fc.integer({ min: 129, max: 600 }).map((length) => 'a'.repeat(length)),
  );
}

function split(data: Buffer, cutPoints: number[]): Buffer[] {
  const cuts = [...new Set(cutPoints.map((cut) => (data.length === 0 ? 0 : cut % data.length)))].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let start = 0;
  for (const cut of [...cuts, data.length]) {
    if (cut > start) chunks.push(data.subarray(start, cut));
    start = Math.max(start, cut);
  }
  return chunks;
}
