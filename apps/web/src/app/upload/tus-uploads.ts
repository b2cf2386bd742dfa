import { HttpErrorResponse, HttpHeaders } from '@angular/common/http';
import { inject, Injectable } from '@angular/core';
import type { UploadResult } from '@app/shared';
import { concatMap, from, map, Observable, of, switchMap } from 'rxjs';
import type { DetailedError, Upload } from 'tus-js-client';
import { AuthService } from '../auth/auth.service';
import { JobsApi } from '../jobs/jobs-api.service';
import type { UploadEvent, UploadOptions } from './upload-api.service';

/** tus endpoint of the API (contract: tus 1.0 at /api/uploads). */
export const TUS_ENDPOINT = '/api/uploads';
/** Bytes per PATCH: a lost connection costs at most this much again. */
const CHUNK_BYTES = 16 * 1024 * 1024;
/** Waits before tus-js-client tries a failed request again (then the upload fails and can be resumed by hand). */
const RETRY_DELAYS_MS = [0, 1000, 3000, 5000, 10000];
type TusEvent = { type: 'progress'; loaded: number; total: number } | { type: 'finished'; jobId: string };

/** The header the last PATCH answers with. */
const JOB_ID_HEADER = 'Thumbs-Job-Id';

/**
 * Resumable uploads over tus (tus-js-client, loaded on first use): one upload per local item id,
 * kept so that pausing (unsubscribing) and resuming (subscribing again) goes on from the offset the
 * server has, and a reload finds the upload again by the file's fingerprint. The job is read once
 * the last byte is in (`Thumbs-Job-Id`). Errors come out as HttpErrorResponse, with the server's
 * `Rejected` body when it refused the file, like the multipart route's.
 */
@Injectable({ providedIn: 'root' })
export class TusUploads {
  private readonly auth = inject(AuthService);
  private readonly jobs = inject(JobsApi);
  private readonly uploads = new Map<string, Upload>();

  /** Starts (or resumes) the upload of `file` for item `key`; unsubscribing pauses it. */
  upload(key: string, file: File, options: UploadOptions = {}): Observable<UploadEvent> {
    return from(import('tus-js-client')).pipe(switchMap((tus) => this.run(tus, key, file, options)));
  }

  /** Forgets an upload, asking the server to drop what it has (a cancel). */
  discard(key: string): void {
    const upload = this.uploads.get(key);
    this.uploads.delete(key);
    if (upload?.url) void upload.abort(true).catch(() => undefined);
  }

  private run(tus: typeof import('tus-js-client'), key: string, file: File, options: UploadOptions): Observable<UploadEvent> {
    let jobId: string | null = null;
    return new Observable<TusEvent>((subscriber) => {
      const upload =
        this.uploads.get(key) ??
        new tus.Upload(file, {
          endpoint: TUS_ENDPOINT,
          chunkSize: CHUNK_BYTES,
          retryDelays: RETRY_DELAYS_MS,
          removeFingerprintOnSuccess: true,
          metadata: {
            filename: file.name,
            filetype: file.type || 'application/octet-stream',
            ...(options.allowDuplicates ? { allowDuplicates: 'true' } : {}),
          },
        });
      this.uploads.set(key, upload);
      // Set on every (re)start: the subscriber and the token are this attempt's.
      upload.options.onBeforeRequest = (request) => {
        const token = this.auth.token();
        if (token) request.setHeader('Authorization', `Bearer ${token}`);
      };
      upload.options.onProgress = (loaded, total) => subscriber.next({ type: 'progress', loaded, total });
      upload.options.onAfterResponse = (_request, response) => {
        jobId = response.getHeader(JOB_ID_HEADER) ?? jobId;
      };
      upload.options.onSuccess = () => {
        this.uploads.delete(key);
        if (jobId) subscriber.next({ type: 'finished', jobId });
        else subscriber.error(new HttpErrorResponse({ status: 502, statusText: 'The server did not say which job it made.' }));
        subscriber.complete();
      };
      upload.options.onError = (error) => {
        this.uploads.delete(key);
        subscriber.error(asHttpError(error));
      };
      void upload.findPreviousUploads().then((previous) => {
        if (!upload.url && previous.length > 0) upload.resumeFromPreviousUpload(previous[0]);
        if (!subscriber.closed) upload.start();
      });
      return () => {
        if (this.uploads.get(key) === upload) void upload.abort(false).catch(() => undefined);
      };
    }).pipe(
      concatMap((event): Observable<UploadEvent> => {
        if (event.type === 'progress') return of(event);
        return this.jobs
          .get(event.jobId)
          .pipe(map((job): UploadEvent => ({ type: 'done', result: { jobs: [job], rejected: [] } satisfies UploadResult })));
      }),
    );
  }
}

/** A tus failure as the HTTP error the multipart route would have given. */
function asHttpError(error: Error | DetailedError): HttpErrorResponse {
  const response = 'originalResponse' in error ? error.originalResponse : null;
  if (!response) return new HttpErrorResponse({ status: 0, statusText: error.message });
  let body: unknown = response.getBody();
  try {
    body = JSON.parse(response.getBody());
  } catch {
    // not JSON: keep the text
  }
  const retryAfter = response.getHeader('Retry-After');
  return new HttpErrorResponse({
    status: response.getStatus(),
    error: body,
    headers: retryAfter ? new HttpHeaders({ 'Retry-After': retryAfter }) : undefined,
  });
}
