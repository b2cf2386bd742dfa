import type { TestRequest } from '@angular/common/http/testing';
import type { ApiErrorBody, Rejected } from '@app/shared';

/** Answers an upload request as the API does for a file that is no image or video: 400, the file in `rejected`. */
export function flushUnsupportedType(request: TestRequest, filename: string): void {
  const message = `“${filename}” is not a supported image or video.`;
  const body: ApiErrorBody & { rejected: Rejected[] } = {
    statusCode: 400,
    error: 'Bad Request',
    message,
    rejected: [{ originalFilename: filename, code: 'unsupported_type', message }],
  };
  request.flush(body, { status: 400, statusText: 'Bad Request' });
}
