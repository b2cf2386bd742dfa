import fc from 'fast-check';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { StorageKeys } from '../storage-keys';
import { InvalidKeyError, ObjectNotFoundError, ObjectTooLargeError } from '../storage.driver';
import { DiskStorageDriver } from './disk-storage.driver';

describe('DiskStorageDriver', () => {
  let base: string;
  let root: string;
  let storage: DiskStorageDriver;

  beforeEach(() => {
    base = fs.mkdtempSync(path.join(os.tmpdir(), 'thumbs-disk-'));
    root = path.join(base, 'root');
    storage = new DiskStorageDriver(root);
    fs.writeFileSync(path.join(base, 'secret.txt'), 'outside the root');
  });

  afterEach(() => fs.rmSync(base, { recursive: true, force: true }));

  it('streams objects in and out, reports them, and deletes them (idempotently)', async () => {
    const key = StorageKeys.original('0190a7e2-0000-7000-8000-000000000001');
    const stored = await storage.put(key, Readable.from(['hello ', 'world']));
    expect(stored.size).toBe(11);
    expect(await text(await storage.read(key))).toBe('hello world');
    expect(await storage.stat(key)).toMatchObject({ size: 11 });
    expect(await storage.withLocalFile(key, async (file) => fs.readFileSync(file, 'utf8'))).toBe('hello world');
    await storage.delete(key);
    await storage.delete(key);
    expect(await storage.stat(key)).toBeNull();
    await expect(storage.read(key)).rejects.toBeInstanceOf(ObjectNotFoundError);
    await expect(storage.withLocalFile(key, async () => 1)).rejects.toBeInstanceOf(ObjectNotFoundError);
  });

  it('never leaves half an object: a failed or oversized write leaves nothing behind', async () => {
    const key = 'uploads/partial';
    const failing = new Readable({
      read() {
        this.push(Buffer.alloc(1000));
        this.destroy(new Error('client went away'));
      },
    });
    await expect(storage.put(key, failing)).rejects.toThrow('client went away');
    await expect(storage.put(key, Buffer.alloc(5000), { maxBytes: 4096 })).rejects.toBeInstanceOf(ObjectTooLargeError);
    expect(await storage.stat(key)).toBeNull();
    expect(fs.readdirSync(path.join(root, '.tmp'))).toEqual([]);
  });

  it('removes empty per-object folders with the last object', async () => {
    const key = StorageKeys.thumbnail('0190a7e2-0000-7000-8000-000000000002');
    await storage.put(key, Buffer.from('jpeg'));
    await storage.delete(key);
    expect(fs.existsSync(path.join(root, 'processed', '0190a7e2-0000-7000-8000-000000000002'))).toBe(false);
    expect(fs.existsSync(root)).toBe(true);
  });

  it('refuses every key that could reach outside its root', async () => {
    const hostile = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 64 }),
      fc.array(fc.constantFrom('..', '.', '', 'a', '%2e%2e', '..\\..', '/etc', 'secret.txt', '.tmp', '~'), { minLength: 1, maxLength: 6 }).map((parts) => parts.join('/')),
    );
    await fc.assert(
      fc.asyncProperty(hostile, async (key) => {
        try {
          await storage.put(key, Buffer.from('x'));
        } catch (error) {
          expect(error).toBeInstanceOf(InvalidKeyError);
          return;
        }
        // Accepted keys land inside the root, and never in the temp folder's name space.
        const file = path.resolve(root, key);
        expect(file.startsWith(root + path.sep)).toBe(true);
        expect(fs.existsSync(file)).toBe(true);
        await storage.delete(key);
      }),
      { numRuns: 500 },
    );
    expect(fs.readFileSync(path.join(base, 'secret.txt'), 'utf8')).toBe('outside the root');
    await expect(storage.read('../secret.txt')).rejects.toBeInstanceOf(InvalidKeyError);
    await expect(storage.stat('uploads/../../secret.txt')).rejects.toBeInstanceOf(InvalidKeyError);
  });
});
