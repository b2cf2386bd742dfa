import type { Request } from 'express';
import type { StorageEngine } from 'multer';
import type { StoredUpload, UploadIntake } from '@app/jobs';
import type { Rejected } from '@app/shared';
import type { StorageDriver } from '@app/storage';

const PENDING_BYTES = Symbol('pendingBytes');

/** A file part as multer hands it to the controller: multer's fields plus the intake's verdict. */
export type ReceivedFile = Express.Multer.File & { stored?: StoredUpload; rejected?: Rejected };

/** What the engine is doing and has stored for one request, so that an abandoned request can be undone. */
interface RequestWrites {
  pending: Set<Promise<unknown>>;
  stored: string[];
}

const WRITES = new WeakMap<Request, RequestWrites>();

function writesOf(req: Request): RequestWrites {
  let writes = WRITES.get(req);
  if (!writes) WRITES.set(req, (writes = { pending: new Set(), stored: [] }));
  return writes;
}

/**
 * Waits for the files of `req` still being written (their streams must have been destroyed: the
 * intake then removes what it wrote) and deletes every file the request had stored.
 */
export async function discardWrites(req: Request, storage: StorageDriver): Promise<void> {
  const writes = WRITES.get(req);
  if (!writes) return;
  await Promise.allSettled([...writes.pending]);
  await Promise.all(writes.stored.map((key) => storage.delete(key).catch(() => undefined)));
}

/**
 * multer storage engine that hands each file stream to the UploadIntake, which sniffs it and
 * streams it into storage (or reads it to the end and rejects it). Nothing is buffered whole.
 */
export class IntakeStorageEngine implements StorageEngine {
  constructor(
    private readonly intake: UploadIntake,
    private readonly storage: StorageDriver,
  ) {}

  _handleFile(req: Request, file: Express.Multer.File, callback: (error?: unknown, info?: Partial<ReceivedFile>) => void): void {
    // Files of one request arrive one after another: each counts the ones before it against the quota.
    const state = req as Request & { user?: { id: string }; [PENDING_BYTES]?: number };
    const writes = writesOf(req);
    const work = this.intake.receive(file.stream, file.originalname, file.mimetype, {
      userId: state.user?.id,
      pendingBytes: state[PENDING_BYTES] ?? 0,
    });
    writes.pending.add(work);
    work.then(
      (result) => {
        writes.pending.delete(work);
        if ('stored' in result) {
          writes.stored.push(result.stored.key);
          state[PENDING_BYTES] = (state[PENDING_BYTES] ?? 0) + result.stored.size;
        }
        callback(null, result);
      },
      (error: unknown) => {
        writes.pending.delete(work);
        callback(error);
      },
    );
  }

  /** Called by multer when the request fails after some files were stored. */
  _removeFile(_req: Request, file: ReceivedFile, callback: (error: Error | null) => void): void {
    if (!file.stored) return callback(null);
    this.storage.delete(file.stored.key).then(
      () => callback(null),
      (error: Error) => callback(error),
    );
  }
}
