import { HttpClient, HttpParams } from '@angular/common/http';
import { inject, Injectable } from '@angular/core';
import { DEFAULT_PAGE_SIZE, FileType, JobPage, JobStatus, JobView, MAX_PAGE_SIZE } from '@app/shared';
import { map, Observable } from 'rxjs';
import type { JobSort } from './job-query';

export interface JobListQuery {
  status?: JobStatus | null;
  type?: FileType | null;
  q?: string | null;
  sort?: JobSort | null;
  trashed?: boolean;
  cursor?: string | null;
  limit?: number;
}

/** `GET /api/jobs/stats` (contract). */
export interface JobStats {
  total: number;
  byStatus: Record<JobStatus, number>;
  byType: Record<FileType, number>;
  /** Bytes of originals kept. */
  bytes: number;
  quotaBytes: number | null;
  trashed: number;
}

export type BulkAction = 'delete' | 'retry' | 'restore';

/** `POST /api/jobs/bulk` answer (contract). */
export interface BulkResult {
  done: string[];
  skipped: { id: string; reason: string }[];
}

export type ArchiveContent = 'thumbnails' | 'originals';

/** `POST /api/archives` answer: a signed URL streaming the zip. */
export interface Archive {
  url: string;
  expiresAt: string;
}

/** Most ids `POST /api/jobs/bulk` takes at once. */
export const MAX_BULK_IDS = 500;
/** Most ids `POST /api/archives` takes at once. */
export const MAX_ARCHIVE_IDS = 1000;

/** The jobs routes of the REST API. */
@Injectable({ providedIn: 'root' })
export class JobsApi {
  private readonly http = inject(HttpClient);

  /** One page in the order of `sort` (newest first by default); only the parameters given are sent. */
  list(query: JobListQuery = {}): Observable<JobPage> {
    let params = new HttpParams().set('limit', Math.min(Math.max(1, query.limit ?? DEFAULT_PAGE_SIZE), MAX_PAGE_SIZE));
    if (query.status) params = params.set('status', query.status);
    if (query.type) params = params.set('type', query.type);
    if (query.q) params = params.set('q', query.q);
    if (query.sort && query.sort !== 'newest') params = params.set('sort', query.sort);
    if (query.trashed) params = params.set('trashed', 'true');
    if (query.cursor) params = params.set('cursor', query.cursor);
    return this.http.get<JobPage>('/api/jobs', { params });
  }

  get(id: string): Observable<JobView> {
    return this.http.get<JobView>(`/api/jobs/${encodeURIComponent(id)}`);
  }

  stats(): Observable<JobStats> {
    return this.http.get<JobStats>('/api/jobs/stats');
  }

  /** A failed job back to the queue; answers with the job as it is now. */
  retry(id: string): Observable<JobView> {
    return this.http.post<JobView>(`/api/jobs/${encodeURIComponent(id)}/retry`, null);
  }

  /** To the trash (servers with one), or gone with its files; `permanent` skips the trash. */
  delete(id: string, permanent = false): Observable<void> {
    const params = permanent ? new HttpParams().set('permanent', 'true') : undefined;
    return this.http.delete(`/api/jobs/${encodeURIComponent(id)}`, { params }).pipe(map(() => undefined));
  }

  /** Out of the trash. */
  restore(id: string): Observable<JobView> {
    return this.http.post<JobView>(`/api/jobs/${encodeURIComponent(id)}/restore`, null);
  }

  /** One action on up to {@link MAX_BULK_IDS} jobs. */
  bulk(action: BulkAction, ids: readonly string[]): Observable<BulkResult> {
    return this.http.post<BulkResult>('/api/jobs/bulk', { action, ids });
  }

  /** A zip of up to {@link MAX_ARCHIVE_IDS} jobs' thumbnails or originals. */
  archive(ids: readonly string[], content: ArchiveContent): Observable<Archive> {
    return this.http.post<Archive>('/api/archives', { ids, content });
  }
}
