import { ArgumentsHost, Catch, ExceptionFilter, HttpException, HttpStatus, Logger } from '@nestjs/common';
import type { Request, Response } from 'express';
import { STATUS_CODES } from 'node:http';
import { DomainError, DomainErrorKind, ServiceUnavailableError, TooManyRequestsError } from '@app/core';
import type { ApiErrorBody } from '@app/shared';
import { InvalidKeyError, isStorageFull, ObjectNotFoundError, STORAGE_FULL_MESSAGE } from '@app/storage';
import { requestIdOf } from './request-id';

const STATUS_OF: Record<DomainErrorKind, number> = {
  invalid: HttpStatus.BAD_REQUEST,
  unauthorized: HttpStatus.UNAUTHORIZED,
  forbidden: HttpStatus.FORBIDDEN,
  not_found: HttpStatus.NOT_FOUND,
  conflict: HttpStatus.CONFLICT,
  too_large: HttpStatus.PAYLOAD_TOO_LARGE,
  too_many_requests: HttpStatus.TOO_MANY_REQUESTS,
  unavailable: HttpStatus.SERVICE_UNAVAILABLE,
};

/** Errors of ioredis while Redis is down or unreachable. */
const REDIS_DOWN =
  /ECONNREFUSED|ETIMEDOUT|ENOTFOUND|Connection is closed|Command timed out|max retries per request|Stream isn't writeable/i;

/**
 * The one place errors become HTTP responses: domain errors by kind, Nest's HttpExceptions as they
 * are, dependencies being down as 503; anything else is a 500 whose details are logged, not sent.
 * Every body has the contract's shape `{ statusCode, error, message }`.
 */
@Catch()
export class DomainExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('HttpErrors');

  catch(exception: unknown, host: ArgumentsHost): void {
    const context = host.switchToHttp();
    const res = context.getResponse<Response>();
    const req = context.getRequest<Request>();
    if (res.headersSent) {
      res.destroy();
      return;
    }
    // A failed health check answers in its own shape: what is up, what is down.
    const response = exception instanceof HttpException ? exception.getResponse() : undefined;
    if (typeof response === 'object' && response !== null && 'details' in response && 'status' in response) {
      res
        .status((exception as HttpException).getStatus())
        .setHeader('Retry-After', '5')
        .json(response);
      return;
    }
    const { status, message, extra, retryAfter } = this.describe(exception, req);
    if (retryAfter) res.setHeader('Retry-After', String(retryAfter));
    const body: ApiErrorBody & Record<string, unknown> = { statusCode: status, error: STATUS_CODES[status] ?? 'Error', message, ...extra };
    res.status(status).json(body);
  }

  private describe(
    exception: unknown,
    req: Request,
  ): { status: number; message: string | string[]; extra?: Record<string, unknown>; retryAfter?: number } {
    if (exception instanceof DomainError) {
      const extra = exception.details;
      const retryAfter =
        exception instanceof TooManyRequestsError || exception instanceof ServiceUnavailableError ? exception.retryAfterSeconds : undefined;
      if (exception instanceof ServiceUnavailableError) this.logger.warn(`${req.method} ${req.path}: ${exception.message}`);
      return { status: STATUS_OF[exception.kind], message: exception.message, extra, retryAfter };
    }
    if (exception instanceof HttpException) {
      const response = exception.getResponse();
      const message =
        typeof response === 'object' && response !== null && 'message' in response
          ? (response as { message: string | string[] }).message
          : exception.message;
      return { status: exception.getStatus(), message };
    }
    // Errors from Express middleware (body-parser: malformed JSON, body too large) carry their status.
    const httpError = exception as { status?: unknown; expose?: unknown; message?: string } | undefined;
    if (typeof httpError?.status === 'number' && httpError.status >= 400 && httpError.status < 500 && httpError.expose === true) {
      return { status: httpError.status, message: httpError.message ?? 'Bad request' };
    }
    if (exception instanceof ObjectNotFoundError || exception instanceof InvalidKeyError) {
      return { status: HttpStatus.NOT_FOUND, message: 'Not found' };
    }
    if (isStorageFull(exception)) {
      this.logger.warn(`${req.method} ${req.path}: storage full: ${(exception as Error).message}`);
      return { status: HttpStatus.INSUFFICIENT_STORAGE, message: STORAGE_FULL_MESSAGE, retryAfter: 60 };
    }
    const text = (exception as Error | undefined)?.message ?? '';
    if (REDIS_DOWN.test(text) || (exception as Error | undefined)?.name === 'MaxRetriesPerRequestError') {
      this.logger.warn(`${req.method} ${req.path}: Redis unavailable: ${text}`);
      return {
        status: HttpStatus.SERVICE_UNAVAILABLE,
        message: 'The queue (Redis) is unavailable right now. Try again shortly.',
        retryAfter: 5,
      };
    }
    this.logger.error({ err: exception, method: req.method, path: req.path, requestId: requestIdOf(req) }, 'Unhandled error');
    return { status: HttpStatus.INTERNAL_SERVER_ERROR, message: 'Internal server error' };
  }
}
