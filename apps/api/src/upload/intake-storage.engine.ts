import type { Request } from 'express';
import type { StorageEngine } from 'multer';
import type { StoredUpload, UploadIntake } from '@app/jobs';
import type { Rejected } from '@app/shared';
import type { StorageDriver } from '@app/storage';

const PENDING_BYTES = Symbol('pendingBytes');

/** A file part as multer hands it to the controller: multer's fields plus the intake's verdict. */
export type ReceivedFile = Express.Multer.File & { stored?: StoredUpload; rejected?: Rejected };

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
    this.intake
      .receive(file.stream, file.originalname, file.mimetype, { userId: state.user?.id, pendingBytes: state[PENDING_BYTES] ?? 0 })
      .then(
        (result) => {
          if ('stored' in result) state[PENDING_BYTES] = (state[PENDING_BYTES] ?? 0) + result.stored.size;
          callback(null, result);
        },
        (error: unknown) => callback(error),
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
