import { HttpErrorResponse } from '@angular/common/http';
import type { ApiErrorBody, Rejected } from '@app/shared';

/** What the UI needs to know about a failed API call. */
export interface ApiProblem {
  /** HTTP status; 0 when the server could not be reached. */
  status: number;
  /** A sentence a person can act on. */
  message: string;
  /** Files the server did not accept (upload 400/413 bodies carry them). */
  rejected: readonly Rejected[];
  /** From `Retry-After` (seconds or an HTTP date), when the server sent one. */
  retryAfterSeconds: number | null;
}

/** Turns anything thrown by HttpClient into an {@link ApiProblem}. */
export function describeApiError(error: unknown): ApiProblem {
  if (!(error instanceof HttpErrorResponse)) {
    return { status: -1, message: 'Something went wrong. Try again.', rejected: [], retryAfterSeconds: null };
  }
  const body = isApiErrorBody(error.error) ? error.error : null;
  return {
    status: error.status,
    message: body ? messageOf(body.message) : fallbackMessage(error),
    rejected: body ? rejectedOf(body) : [],
    retryAfterSeconds: parseRetryAfter(error.headers?.get('Retry-After') ?? null),
  };
}

/** `Retry-After` is either delta-seconds or an HTTP date (RFC 9110 §10.2.3). */
export function parseRetryAfter(value: string | null, now = Date.now()): number | null {
  if (value === null || value.trim() === '') return null;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed);
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? null : Math.max(0, Math.ceil((at - now) / 1000));
}

function isApiErrorBody(value: unknown): value is ApiErrorBody & { rejected?: unknown } {
  if (typeof value !== 'object' || value === null) return false;
  const message = (value as { message?: unknown }).message;
  return typeof message === 'string' || (Array.isArray(message) && message.every((item) => typeof item === 'string'));
}

function messageOf(message: string | string[]): string {
  const parts = (Array.isArray(message) ? message : [message]).map((part) => part.trim()).filter((part) => part !== '');
  if (parts.length === 0) return 'The request was not accepted.';
  return parts
    .map((part) => (/[.!?]$/.test(part) ? part : `${part}.`))
    .map(capitalise)
    .join(' ');
}

function rejectedOf(body: { rejected?: unknown }): Rejected[] {
  if (!Array.isArray(body.rejected)) return [];
  return body.rejected.filter(
    (item): item is Rejected =>
      typeof item === 'object' &&
      item !== null &&
      typeof (item as Rejected).originalFilename === 'string' &&
      typeof (item as Rejected).message === 'string',
  );
}

function fallbackMessage(error: HttpErrorResponse): string {
  if (error.status === 0) return 'Cannot reach the server. Check your connection and try again.';
  if (error.status === 413) return 'The file is too large for the server.';
  if (error.status === 429) return 'Too many requests. Wait a moment and try again.';
  if (error.status >= 500) return `The server had a problem (${error.status}). Try again in a moment.`;
  return `The request failed (${error.status}${error.statusText ? ` ${error.statusText}` : ''}).`;
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
