import { CallHandler, ExecutionContext, Injectable, NestInterceptor, RequestTimeoutException } from '@nestjs/common';
import type { Request, RequestHandler, Response } from 'express';
import multer, { MulterError } from 'multer';
import { Observable } from 'rxjs';
import { AppConfig, InvalidInputError, PayloadTooLargeError } from '@app/core';
import { JobsService, UploadIntake } from '@app/jobs';
import { formatBytes } from '@app/shared';
import { StorageDriver } from '@app/storage';
import { ApiMetrics } from '../observability/api-metrics';
import { discardWrites, IntakeStorageEngine } from './intake-storage.engine';

/** Multipart overhead allowed on top of the files themselves (headers, boundaries, small fields). */
const MULTIPART_OVERHEAD = 1024 * 1024;

/**
 * Parses `multipart/form-data` uploads (field `files`, repeated) with multer and the intake engine,
 * after cheap checks that spare a doomed upload: the declared length, and that the database is up.
 */
@Injectable()
export class UploadInterceptor implements NestInterceptor {
  private readonly parse: RequestHandler;

  constructor(
    private readonly config: AppConfig,
    private readonly jobs: JobsService,
    private readonly metrics: ApiMetrics,
    intake: UploadIntake,
    private readonly storage: StorageDriver,
  ) {
    const { maxFilesPerRequest } = config.upload;
    this.parse = multer({
      storage: new IntakeStorageEngine(intake, storage),
      defParamCharset: 'utf8',
      limits: { files: maxFilesPerRequest, fields: 20, parts: maxFilesPerRequest + 20, fieldSize: 64 * 1024, headerPairs: 100 },
    }).array('files');
  }

  async intercept(context: ExecutionContext, next: CallHandler): Promise<Observable<unknown>> {
    const req = context.switchToHttp().getRequest<Request>();
    const res = context.switchToHttp().getResponse<Response>();
    const { maxFileBytes, maxFilesPerRequest } = this.config.upload;
    const declared = Number(req.headers['content-length'] ?? 0);
    const maxRequest = maxFileBytes * maxFilesPerRequest + MULTIPART_OVERHEAD;
    if (declared > maxRequest) {
      throw new PayloadTooLargeError(
        `The upload is ${formatBytes(declared)}; one request may carry at most ${maxFilesPerRequest} files of ${formatBytes(maxFileBytes)} each.`,
      );
    }
    if (!req.is('multipart/form-data')) {
      throw new InvalidInputError('Send files as multipart/form-data in the field "files".');
    }
    // Fail fast with 503 instead of receiving the whole upload first.
    await this.jobs.ready();
    await new Promise<void>((resolve, reject) => {
      const idle = watchIdleBody(req, this.config.upload.idleTimeoutMs, () => {
        // multer's own request-failure path destroys the part being written (the intake then removes
        // its temporary file); the answer waits until that and the files already stored are gone.
        this.metrics.recordIdleTimeout();
        const seconds = this.config.upload.idleTimeoutMs / 1000;
        res.setHeader('Connection', 'close');
        req.emit('error', new UploadIdleError(seconds));
        const timeout = new RequestTimeoutException(
          `No bytes of the upload arrived for ${seconds} s: the upload was aborted. Send it again.`,
        );
        void discardWrites(req, this.storage).finally(() => reject(timeout));
      });
      this.parse(req, res, (error?: unknown) => {
        idle.stop();
        if (error) reject(toDomainError(error, maxFilesPerRequest));
        else resolve();
      });
      idle.start();
    });
    return next.handle();
  }
}

class UploadIdleError extends Error {
  constructor(seconds: number) {
    super(`upload body idle for ${seconds} s`);
  }
}

/**
 * Calls `onIdle` once when the request body brings no byte for `idleMs`. Time while the body is
 * paused by back-pressure (storage slower than the client) does not count: that wait is ours.
 * Started after multer has piped the request, so observing 'data' loses nothing.
 */
function watchIdleBody(req: Request, idleMs: number, onIdle: () => void): { start(): void; stop(): void } {
  let lastByteAt = Date.now();
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const onData = () => {
    lastByteAt = Date.now();
  };
  const stop = () => {
    stopped = true;
    if (timer) clearTimeout(timer);
    timer = undefined;
    req.off('data', onData);
  };
  const check = () => {
    const quietMs = Date.now() - lastByteAt;
    if (req.readableFlowing === false) lastByteAt = Date.now();
    else if (quietMs >= idleMs) {
      stop();
      return onIdle();
    }
    timer = setTimeout(check, Math.max(idleMs - (Date.now() - lastByteAt), 10));
  };
  return {
    start() {
      if (stopped || req.readableEnded || req.destroyed) return;
      lastByteAt = Date.now();
      req.on('data', onData);
      timer = setTimeout(check, idleMs);
    },
    stop,
  };
}

function toDomainError(error: unknown, maxFiles: number): Error {
  if (!(error instanceof MulterError)) {
    const message = (error as Error | undefined)?.message ?? '';
    if (/unexpected end of form|malformed part header|boundary/i.test(message)) {
      return new InvalidInputError('The upload was cut off or is not valid multipart/form-data.');
    }
    return error instanceof Error ? error : new Error(String(error));
  }
  switch (error.code) {
    case 'LIMIT_FILE_COUNT':
      return new PayloadTooLargeError(`Too many files: one upload may carry at most ${maxFiles}.`);
    case 'LIMIT_UNEXPECTED_FILE':
      return new InvalidInputError(`Files must be sent in the multipart field "files" (got "${error.field ?? ''}").`);
    case 'LIMIT_PART_COUNT':
    case 'LIMIT_FIELD_COUNT':
    case 'LIMIT_FIELD_KEY':
    case 'LIMIT_FIELD_VALUE':
      return new PayloadTooLargeError('The upload has too many or too large form fields.');
    default:
      return new InvalidInputError(`The upload could not be read (${error.message}).`);
  }
}
