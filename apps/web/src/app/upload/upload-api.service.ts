import { HttpClient, HttpEvent, HttpEventType, HttpHeaders, HttpRequest } from '@angular/common/http';
import { inject, Injectable } from '@angular/core';
import type { UploadResult } from '@app/shared';
import { EMPTY, mergeMap, Observable, of } from 'rxjs';

export type UploadEvent = { type: 'progress'; loaded: number; total: number } | { type: 'done'; result: UploadResult };

export interface UploadOptions {
  /** Upload even when the user already has this content (the server would reject it as `duplicate`). */
  allowDuplicates?: boolean;
}

/** `POST /api/upload`, one file per request so each has its own progress and outcome. */
@Injectable({ providedIn: 'root' })
export class UploadApi {
  private readonly http = inject(HttpClient);

  /**
   * Sends `file` with its `Idempotency-Key`: sending the same key again (a retry after a lost
   * answer) gets the first answer back instead of new jobs. Unsubscribing aborts the upload.
   */
  upload(file: File, idempotencyKey: string, options: UploadOptions = {}): Observable<UploadEvent> {
    const body = new FormData();
    // Fields before the file: the server reads them as the stream arrives.
    if (options.allowDuplicates) body.append('allowDuplicates', 'true');
    body.append('files', file, file.name);
    const request = new HttpRequest('POST', '/api/upload', body, {
      reportProgress: true,
      headers: new HttpHeaders({ 'Idempotency-Key': idempotencyKey }),
    });
    return this.http.request<UploadResult>(request).pipe(mergeMap((event) => toUploadEvent(event, file)));
  }
}

function toUploadEvent(event: HttpEvent<UploadResult>, file: File): Observable<UploadEvent> {
  switch (event.type) {
    case HttpEventType.UploadProgress:
      return of({ type: 'progress', loaded: event.loaded, total: event.total ?? file.size });
    case HttpEventType.Response:
      return of({ type: 'done', result: event.body ?? { jobs: [], rejected: [] } });
    default:
      return EMPTY;
  }
}
