import { FileStore } from '@tus/file-store';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { SNIFF_BYTES } from '@app/jobs';

/** A tus upload as the file store describes it. */
export type TusUpload = Awaited<ReturnType<FileStore['getUpload']>>;

/** An error tus answers as is: `status_code` and `body` (the shape of tus' own errors). */
export class TusReply extends Error {
  constructor(
    readonly status_code: number,
    readonly body: string,
  ) {
    super(body);
  }
}

/** Decides on an upload from its first bytes: null to accept, or the reply that refuses it. */
export type HeadCheck = (upload: TusUpload, head: Buffer) => Promise<TusReply | null>;

/**
 * The tus file store (partial uploads on local disk, state in `<id>.json` beside them, so an api
 * restart loses nothing), which looks at the first bytes of an upload before writing them: as soon
 * as the sniff window (or the whole file, if smaller) has arrived, across as many PATCH requests as
 * it takes, `check` decides, and a refused upload is removed before the rest of the chunk is written.
 * The state needs no flag of its own: an upload past the window has been checked.
 */
export class SniffingFileStore extends FileStore {
  constructor(
    options: ConstructorParameters<typeof FileStore>[0],
    private readonly check: HeadCheck,
    private readonly server: {
      /** Metadata keys the server keeps for itself: never handed to tus, so never answered by HEAD. */
      privateKeys: readonly string[];
      /** An upload the current request has just finished and removed, which tus may still look up. */
      justFinished: (id: string) => TusUpload | undefined;
    },
  ) {
    super(options);
    // Deferred lengths are refused at creation (the size limit and the quota are checked from
    // Upload-Length), so discovery must not offer them.
    this.extensions = this.extensions.filter((extension) => extension !== 'creation-defer-length');
  }

  /** The stored metadata of upload `id`, the server's own keys included; null if there is none. */
  async storedMetadata(id: string): Promise<Record<string, string | null> | null> {
    const record = await this.configstore.get(id).catch(() => undefined);
    return record ? (record.metadata ?? {}) : null;
  }

  override async getUpload(id: string): Promise<TusUpload> {
    const finished = this.server.justFinished(id);
    if (finished) return finished;
    const upload = await super.getUpload(id);
    if (upload.metadata) {
      upload.metadata = Object.fromEntries(Object.entries(upload.metadata).filter(([key]) => !this.server.privateKeys.includes(key)));
    }
    return upload;
  }

  /** Where the bytes of upload `id` are (ids are checked by the controller before they get here). */
  pathOf(id: string): string {
    return path.join(this.directory, id);
  }

  override async write(readable: Readable, id: string, offset: number): Promise<number> {
    const upload = await this.getUpload(id);
    const window = Math.min(SNIFF_BYTES, upload.size ?? SNIFF_BYTES);
    if (offset >= window) return super.write(readable, id, offset);
    const before = offset > 0 ? await readHead(this.pathOf(id), offset) : Buffer.alloc(0);
    const { head, rest, drain } = await peek(readable, window - offset);
    const seen = Buffer.concat([before, head]);
    if (seen.length >= window) {
      const refusal = await this.check(upload, seen);
      if (refusal) {
        // Read the rest of this request, so the client gets the answer instead of a reset connection.
        await drain();
        await this.remove(id).catch(() => undefined);
        throw refusal;
      }
    }
    return super.write(rest, id, offset);
  }
}

/** The first `bytes` bytes of a file. */
export async function readHead(file: string, bytes: number): Promise<Buffer> {
  const handle = await fs.open(file, 'r');
  try {
    const buffer = Buffer.alloc(bytes);
    const { bytesRead } = await handle.read(buffer, 0, bytes, 0);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

/**
 * Reads at least `bytes` from `source` (or to its end), and gives back those bytes, a stream of
 * the whole (the same bytes first, then the rest), and a way to discard the rest instead.
 */
async function peek(source: Readable, bytes: number): Promise<{ head: Buffer; rest: Readable; drain: () => Promise<void> }> {
  const iterator = source[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  const chunks: Buffer[] = [];
  let total = 0;
  let ended = false;
  while (total < bytes) {
    const next = await iterator.next();
    if (next.done) {
      ended = true;
      break;
    }
    chunks.push(next.value);
    total += next.value.length;
  }
  const head = Buffer.concat(chunks);
  async function* all(): AsyncGenerator<Buffer> {
    yield head;
    if (ended) return;
    for (let next = await iterator.next(); !next.done; next = await iterator.next()) yield next.value;
  }
  const drain = async () => {
    if (ended) return;
    for (let next = await iterator.next(); !next.done; next = await iterator.next()) {
      // discarded
    }
  };
  return { head, rest: Readable.from(all(), { objectMode: false }), drain };
}
