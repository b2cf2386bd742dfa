import { HttpErrorResponse, HttpHeaders } from '@angular/common/http';
import { describeApiError, parseRetryAfter } from './api-error';

function httpError(status: number, body: unknown, headers: Record<string, string> = {}): HttpErrorResponse {
  return new HttpErrorResponse({ status, statusText: 'Status', error: body, headers: new HttpHeaders(headers) });
}

describe('describeApiError', () => {
  it("uses the API's message", () => {
    const problem = describeApiError(httpError(401, { statusCode: 401, error: 'Unauthorized', message: 'Invalid email or password' }));
    expect(problem).toEqual({ status: 401, message: 'Invalid email or password.', rejected: [], retryAfterSeconds: null });
  });

  it('joins a list of field errors into sentences', () => {
    const problem = describeApiError(
      httpError(400, {
        statusCode: 400,
        error: 'Bad Request',
        message: ['password must be longer than or equal to 8 characters', 'email must be a valid email address'],
      }),
    );
    expect(problem.message).toBe('Password must be longer than or equal to 8 characters. Email must be a valid email address.');
  });

  it('keeps the rejected files of an upload body', () => {
    const rejected = [
      { originalFilename: 'notes.txt', code: 'unsupported_type', message: '“notes.txt” is not a supported image or video.' },
    ];
    const problem = describeApiError(
      httpError(400, { statusCode: 400, error: 'Bad Request', message: 'None of the files can be processed.', rejected }),
    );
    expect(problem.rejected).toEqual(rejected);
  });

  it('reads Retry-After', () => {
    const problem = describeApiError(
      httpError(429, { statusCode: 429, error: 'Too Many Requests', message: 'Slow down.' }, { 'Retry-After': '120' }),
    );
    expect(problem.retryAfterSeconds).toBe(120);
  });

  it('explains a server that cannot be reached', () => {
    expect(describeApiError(httpError(0, new ProgressEvent('error'))).message).toMatch(/cannot reach the server/i);
  });

  it('falls back on the status when the body is not the API shape (a proxy page, say)', () => {
    expect(describeApiError(httpError(502, '<html>Bad gateway</html>')).message).toMatch(/server had a problem \(502\)/);
    expect(describeApiError(httpError(413, null)).message).toMatch(/too large/);
  });

  it('handles things that are not HTTP errors', () => {
    expect(describeApiError(new Error('boom')).status).toBe(-1);
  });
});

describe('parseRetryAfter', () => {
  it('reads seconds and HTTP dates', () => {
    const now = Date.UTC(2025, 0, 1, 12, 0, 0);
    expect(parseRetryAfter('30', now)).toBe(30);
    expect(parseRetryAfter(new Date(now + 90_000).toUTCString(), now)).toBe(90);
    expect(parseRetryAfter(new Date(now - 90_000).toUTCString(), now)).toBe(0);
  });

  it('ignores what it cannot read', () => {
    expect(parseRetryAfter(null)).toBeNull();
    expect(parseRetryAfter('')).toBeNull();
    expect(parseRetryAfter('soon')).toBeNull();
  });
});
