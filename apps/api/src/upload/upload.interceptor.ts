import { CallHandler, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import type { Request, RequestHandler, Response } from 'express';
import multer, { MulterError } from 'multer';
import { Observable } from 'rxjs';
import { AppConfig, InvalidInputError, PayloadTooLargeError } from '@app/core';
import { formatBytes, JobsRepository, UploadIntake } from '@app/jobs';
import { StorageDriver } from '@app/storage';
import { IntakeStorageEngine } from './intake-storage.engine';

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
    private readonly jobs: JobsRepository,
    intake: UploadIntake,
    storage: StorageDriver,
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
    await this.jobs.ping();
    await new Promise<void>((resolve, reject) =>
      this.parse(req, res, (error?: unknown) => (error ? reject(toDomainError(error, maxFilesPerRequest)) : resolve())),
    );
    return next.handle();
  }
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
