import { randomBytes } from 'node:crypto';
import * as fsSync from 'node:fs';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { assertValidKey, assertValidPrefix, isValidKey } from '../storage-keys';
import {
  ByteRange,
  InvalidKeyError,
  ListedObject,
  ObjectNotFoundError,
  ObjectTooLargeError,
  PutOptions,
  StorageDriver,
  StoredObject,
} from '../storage.driver';
import { FileSink } from './file-sink';

const TEMP_DIR = '.tmp';

/** Below this much free space `ping` (health) warns that the disk is nearly full (uploads then fail with 507). */
export const MIN_FREE_BYTES = 16 * 1024 * 1024;

/**
 * A temporary file untouched this long belongs to no write in progress (a process killed while it
 * wrote: the bytes of an upload cut short): removed when a driver starts. Uploads that stall are
 * aborted after UPLOAD_IDLE_TIMEOUT_MS (30 s by default), and a write touches its file as it goes.
 */
export const STALE_TEMP_MS = 60 * 60 * 1000;

/** Folders remembered as made (see `folderOf`); past this the oldest is forgotten. */
const MAX_KNOWN_FOLDERS = 1024;

/**
 * Local-disk driver (`STORAGE_URL=file:<dir>`). Writes go to a temporary file in the root and are
 * renamed into place, so a reader never sees half an object. Every key is checked twice: by its
 * shape, then by the resolved path, which must stay inside the root.
 */
export class DiskStorageDriver extends StorageDriver {
  readonly kind = 'file' as const;
  private readonly root: string;
  private ready?: Promise<void>;
  /** Object folders this driver has made (or found), each as the promise of making it, oldest first. */
  private readonly folders = new Map<string, Promise<void>>();

  constructor(
    root: string,
    private readonly minFreeBytes = MIN_FREE_BYTES,
  ) {
    super();
    this.root = path.resolve(root);
  }

  async put(key: string, body: Readable | Buffer, options: PutOptions = {}): Promise<StoredObject> {
    const file = this.pathOf(key);
    await this.ensureRoot();
    const temp = path.join(this.root, TEMP_DIR, `${randomBytes(12).toString('hex')}.part`);
    let size: number;
    try {
      if (Buffer.isBuffer(body)) {
        // Bytes already in memory (thumbnails): one write, no stream machinery.
        if (options.maxBytes !== undefined && body.length > options.maxBytes) throw new ObjectTooLargeError(options.maxBytes);
        await fs.writeFile(temp, body, { mode: 0o640 });
        size = body.length;
      } else {
        const sink = new FileSink(temp, options.maxBytes);
        await pipeline(body, sink);
        size = sink.bytes;
      }
      await this.moveIntoPlace(temp, file);
    } catch (error) {
      await fs.rm(temp, { force: true });
      throw error;
    }
    return { size, modifiedAt: new Date() };
  }

  async read(key: string, range?: ByteRange): Promise<Readable> {
    const file = this.pathOf(key);
    const handle = await fs.open(file, 'r').catch((error: NodeJS.ErrnoException) => {
      throw error.code === 'ENOENT' || error.code === 'EISDIR' ? new ObjectNotFoundError(key) : error;
    });
    // Opening a folder succeeds on Linux; only a file is an object.
    if (!(await handle.stat()).isFile()) {
      await handle.close();
      throw new ObjectNotFoundError(key);
    }
    // The handle's own stream closes the handle when done (a bare fd would be closed twice).
    return handle.createReadStream({ autoClose: true, ...(range ? { start: range.start, end: range.end } : {}) });
  }

  async stat(key: string): Promise<StoredObject | null> {
    try {
      const stats = await fs.stat(this.pathOf(key));
      return stats.isFile() ? { size: stats.size, modifiedAt: stats.mtime } : null;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw error;
    }
  }

  async delete(key: string): Promise<void> {
    const file = this.pathOf(key);
    await fs.rm(file, { force: true });
    // Tidy empty per-object folders (processed/<id>/), never the root itself.
    let dir = path.dirname(file);
    while (dir !== this.root && dir.startsWith(this.root + path.sep)) {
      try {
        await fs.rmdir(dir);
      } catch {
        break;
      }
      this.folders.delete(dir);
      dir = path.dirname(dir);
    }
  }

  async *list(prefix: string): AsyncIterable<ListedObject> {
    assertValidPrefix(prefix);
    yield* this.walk(this.pathOf(prefix.slice(0, -1)), prefix.slice(0, -1));
  }

  async withLocalFile<T>(key: string, work: (file: string) => Promise<T>): Promise<T> {
    const file = this.pathOf(key);
    // A metadata lookup, synchronous: a few µs against ≈ 40 µs for a threadpool round trip on a
    // small VM. (Writes stay asynchronous: creating a file or folder can wait on the file system's
    // journal while other processes write, ≈ 1 ms each under load, which must not stall the loop.)
    if (!fsSync.statSync(file, { throwIfNoEntry: false })?.isFile()) throw new ObjectNotFoundError(key);
    return work(file);
  }

  /** Writes and removes a probe file, so a missing, replaced or read-only root is noticed. */
  async ping(): Promise<string | void> {
    const temp = path.join(this.root, TEMP_DIR);
    await fs.mkdir(temp, { recursive: true });
    const probe = path.join(temp, `ping-${randomBytes(6).toString('hex')}`);
    await fs.writeFile(probe, '');
    await fs.rm(probe, { force: true });
    const { bavail, bsize } = await fs.statfs(this.root);
    const free = bavail * bsize;
    if (free < this.minFreeBytes) return `nearly full: ${Math.floor(free / 1024)} KiB free`;
  }

  /** The files under `dir` (the key `key`), depth first, read a directory entry at a time. */
  private async *walk(dir: string, key: string): AsyncIterable<ListedObject> {
    let entries: fsSync.Dir;
    try {
      entries = await fs.opendir(dir);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return;
      throw error;
    }
    for await (const entry of entries) {
      const child = `${key}/${entry.name}`;
      if (!isValidKey(child)) continue; // not a name this driver makes (".tmp", a stray file)
      if (entry.isDirectory()) {
        yield* this.walk(path.join(dir, entry.name), child);
        continue;
      }
      if (!entry.isFile()) continue;
      const stats = await fs.stat(path.join(dir, entry.name)).catch(() => undefined); // removed meanwhile
      if (stats?.isFile()) yield { key: child, size: stats.size, modifiedAt: stats.mtime };
    }
  }

  /** Absolute path of a key, refusing anything that would resolve outside the root. */
  private pathOf(key: string): string {
    assertValidKey(key);
    const file = path.resolve(this.root, key);
    if (!file.startsWith(this.root + path.sep)) throw new InvalidKeyError(key);
    return file;
  }

  /**
   * Renames a written temporary file to `file`, making its folder first. A job's renditions share a
   * folder (and a user's originals theirs), so the folder is made once and remembered: one
   * `mkdir -p` per folder instead of one per object (two system calls each when it exists, ≈ 0.1 ms
   * of the worker's CPU per tiny job under load). A folder removed since (by `delete`, here or in
   * another process) makes the rename fail with ENOENT: it is then made again.
   */
  private async moveIntoPlace(temp: string, file: string): Promise<void> {
    const dir = path.dirname(file);
    await this.folderOf(dir);
    try {
      await fs.rename(temp, file);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      this.folders.delete(dir);
      await this.folderOf(dir);
      await fs.rename(temp, file);
    }
  }

  private folderOf(dir: string): Promise<void> {
    let made = this.folders.get(dir);
    if (!made) {
      made = fs.mkdir(dir, { recursive: true }).then(() => undefined);
      this.folders.set(dir, made);
      made.catch(() => this.folders.delete(dir));
      if (this.folders.size > MAX_KNOWN_FOLDERS) this.folders.delete(this.folders.keys().next().value!);
    }
    return made;
  }

  /** Removes temporary files left by writes that died with their process (see STALE_TEMP_MS). */
  private async removeStaleTemp(now = Date.now()): Promise<void> {
    const temp = path.join(this.root, TEMP_DIR);
    for (const name of await fs.readdir(temp)) {
      if (!name.endsWith('.part')) continue;
      const file = path.join(temp, name);
      const stat = await fs.stat(file).catch(() => undefined);
      if (stat && now - stat.mtimeMs > STALE_TEMP_MS) await fs.rm(file, { force: true });
    }
  }

  private ensureRoot(): Promise<void> {
    this.ready ??= fs
      .mkdir(path.join(this.root, TEMP_DIR), { recursive: true })
      .then(() => void this.removeStaleTemp().catch(() => undefined));
    return this.ready;
  }
}
