/**
 * Domain errors: thrown by services, mapped to HTTP status codes by one filter in the api.
 * Their messages are written for the person using the service and are safe to show.
 */
export abstract class DomainError extends Error {
  abstract readonly kind: DomainErrorKind;
  constructor(
    message: string,
    /** Extra, client-safe fields added to the error body (e.g. the rejected files of an upload). */
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export type DomainErrorKind =
  | 'invalid'
  | 'unauthorized'
  | 'forbidden'
  | 'not_found'
  | 'conflict'
  | 'too_large'
  | 'too_many_requests'
  | 'unavailable';

export class InvalidInputError extends DomainError {
  readonly kind = 'invalid';
}

export class UnauthorizedError extends DomainError {
  readonly kind = 'unauthorized';
}

export class ForbiddenError extends DomainError {
  readonly kind = 'forbidden';
}

export class NotFoundError extends DomainError {
  readonly kind = 'not_found';
}

export class ConflictError extends DomainError {
  readonly kind = 'conflict';
}

export class PayloadTooLargeError extends DomainError {
  readonly kind = 'too_large';
}

export class TooManyRequestsError extends DomainError {
  readonly kind = 'too_many_requests';
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super(message);
  }
}

/** A dependency (database, Redis, storage) is down; the client may try again later. */
export class ServiceUnavailableError extends DomainError {
  readonly kind = 'unavailable';
  constructor(
    message: string,
    readonly dependency: string,
    readonly retryAfterSeconds = 5,
  ) {
    super(message);
  }
}
