import { HttpClient, HttpParams } from '@angular/common/http';
import { inject, Injectable } from '@angular/core';
import { DEFAULT_PAGE_SIZE, JobPage, JobStatus, JobView, MAX_PAGE_SIZE } from '@app/shared';
import { map, Observable } from 'rxjs';

export interface JobListQuery {
  status?: JobStatus | null;
  cursor?: string | null;
  limit?: number;
}

/** The jobs routes of the REST API. */
@Injectable({ providedIn: 'root' })
export class JobsApi {
  private readonly http = inject(HttpClient);

  /** One page, newest first. */
  list(query: JobListQuery = {}): Observable<JobPage> {
    let params = new HttpParams().set('limit', Math.min(Math.max(1, query.limit ?? DEFAULT_PAGE_SIZE), MAX_PAGE_SIZE));
    if (query.status) params = params.set('status', query.status);
    if (query.cursor) params = params.set('cursor', query.cursor);
    return this.http.get<JobPage>('/api/jobs', { params });
  }

  get(id: string): Observable<JobView> {
    return this.http.get<JobView>(`/api/jobs/${encodeURIComponent(id)}`);
  }

  /** A failed job back to the queue; answers with the job as it is now. */
  retry(id: string): Observable<JobView> {
    return this.http.post<JobView>(`/api/jobs/${encodeURIComponent(id)}/retry`, null);
  }

  /** The job, its original and its thumbnail, gone. */
  delete(id: string): Observable<void> {
    return this.http.delete(`/api/jobs/${encodeURIComponent(id)}`).pipe(map(() => undefined));
  }
}
