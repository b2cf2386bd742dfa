import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describeStorageContract } from '@test/support/storage-contract';
import { DiskStorageDriver } from './disk-storage.driver';

describeStorageContract('DiskStorageDriver', () => {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'thumbs-disk-contract-'));
  const root = path.join(base, 'root');
  return Promise.resolve({
    driver: new DiskStorageDriver(root),
    storedKeys: () => Promise.resolve(fs.existsSync(root) ? filesUnder(root, ['.tmp']) : []),
    leftovers: () => Promise.resolve(fs.existsSync(path.join(root, '.tmp')) ? fs.readdirSync(path.join(root, '.tmp')) : []),
    dispose: () => Promise.resolve(fs.rmSync(base, { recursive: true, force: true })),
  });
});

/** Files under `root` as slash-separated keys, sorted, skipping the named top-level folders. */
function filesUnder(root: string, skip: string[]): string[] {
  return fs
    .readdirSync(root, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => path.relative(root, path.join(entry.parentPath, entry.name)).split(path.sep).join('/'))
    .filter((key) => !skip.includes(key.split('/')[0]))
    .sort();
}
