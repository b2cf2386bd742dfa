import fc from 'fast-check';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { StorageKeys } from '../storage-keys';
import { InvalidKeyError, isStorageFull } from '../storage.driver';
import { DiskStorageDriver } from './disk-storage.driver';

/** Disk-only behaviour; what every driver must do is in test/support/storage-contract.ts (disk-storage.contract.spec.ts). */
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

  it('removes temporary files no write has touched for an hour (a process killed mid-upload), and only those', async () => {
    const temp = path.join(root, '.tmp');
    fs.mkdirSync(temp, { recursive: true });
    const stale = path.join(temp, 'a1b2.part');
    const recent = path.join(temp, 'c3d4.part');
    for (const file of [stale, recent]) fs.writeFileSync(file, Buffer.alloc(1024));
    const twoHoursAgo = new Date(Date.now() - 2 * 60 * 60 * 1000);
    fs.utimesSync(stale, twoHoursAgo, twoHoursAgo);
    await storage.put(StorageKeys.thumbnail('0190a7e2-0000-7000-8000-000000000009'), Buffer.from('jpeg'));
    for (let i = 0; i < 50 && fs.existsSync(stale); i += 1) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(fs.existsSync(stale)).toBe(false);
    expect(fs.existsSync(recent)).toBe(true);
  });

  it('warns, still up, when its file system has less free space than it needs', async () => {
    await expect(storage.ping()).resolves.toBeUndefined();
    await expect(new DiskStorageDriver(root, Number.MAX_SAFE_INTEGER).ping()).resolves.toMatch(/^nearly full: \d+ KiB free$/);
  });

  it('knows a full file system or quota in an error or its cause', () => {
    const full = Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    expect(isStorageFull(full)).toBe(true);
    expect(isStorageFull(new Error('pipeline failed', { cause: Object.assign(new Error('quota'), { code: 'EDQUOT' }) }))).toBe(true);
    expect(isStorageFull(Object.assign(new Error('EACCES'), { code: 'EACCES' }))).toBe(false);
    expect(isStorageFull(undefined)).toBe(false);
  });

  it('removes empty per-object folders with the last object', async () => {
    const key = StorageKeys.thumbnail('0190a7e2-0000-7000-8000-000000000002');
    await storage.put(key, Buffer.from('jpeg'));
    await storage.delete(key);
    expect(fs.existsSync(path.join(root, 'processed', '0190a7e2-0000-7000-8000-000000000002'))).toBe(false);
    expect(fs.existsSync(root)).toBe(true);
  });

  it('stores into a folder it made before, after that folder was removed here or by another process', async () => {
    const jobId = '0190a7e2-0000-7000-8000-000000000003';
    const folder = path.join(root, 'processed', jobId);
    const [thumbnail, twice] = [StorageKeys.rendition(jobId, 'thumbnail'), StorageKeys.rendition(jobId, 'thumbnail2x')];
    await Promise.all([storage.put(thumbnail, Buffer.from('one')), storage.put(twice, Buffer.from('two'))]);
    await storage.delete(thumbnail);
    await storage.delete(twice);
    expect(fs.existsSync(folder)).toBe(false);
    await storage.put(thumbnail, Buffer.from('three'));
    // Removed behind the driver's back (another process's delete).
    fs.rmSync(folder, { recursive: true });
    await storage.put(twice, Buffer.from('four'));
    expect(fs.readFileSync(path.join(folder, path.basename(twice)), 'utf8')).toBe('four');
    expect(fs.readdirSync(path.join(root, '.tmp'))).toEqual([]);
  });

  it('refuses every key that could reach outside its root', async () => {
    const hostile = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 64 }),
      fc
        .array(fc.constantFrom('..', '.', '', 'a', '%2e%2e', '..\\..', '/etc', 'secret.txt', '.tmp', '~'), { minLength: 1, maxLength: 6 })
        .map((parts) => parts.join('/')),
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
