import { randomBytes } from 'node:crypto';
import type { AuthResult, JobPage, JobStatus, JobView, UploadResult } from '@app/shared';

export interface UploadFile {
  name: string;
  data: Buffer;
  /** Declared content type; omitted → application/octet-stream. */
  type?: string;
}

export interface Response<T> {
  status: number;
  body: T;
  headers: Headers;
}

/** A signed-in user of a running api, over plain HTTP (fetch, multipart via FormData). */
export class ApiClient {
  constructor(
    readonly baseUrl: string,
    readonly token: string,
    readonly user: AuthResult['user'],
  ) {}

  static async register(
    baseUrl: string,
    email = `user-${randomBytes(6).toString('hex')}@example.com`,
    password = 'correct horse battery',
  ): Promise<ApiClient> {
    const { status, body } = await request<AuthResult>(baseUrl, 'POST', '/api/auth/register', { json: { email, password } });
    if (status !== 201) throw new Error(`register failed: ${status} ${JSON.stringify(body)}`);
    return new ApiClient(baseUrl, body.accessToken, body.user);
  }

  /**
   * The suites upload the same generated pictures again and again, so this sends
   * `allowDuplicates=true` unless `detectDuplicates` (duplicate detection has its own tests, in
   * test/upload-limits.e2e-spec.ts).
   */
  upload(files: UploadFile[], headers: Record<string, string> = {}, { detectDuplicates = false } = {}): Promise<Response<UploadResult>> {
    const form = new FormData();
    if (!detectDuplicates) form.append('allowDuplicates', 'true');
    for (const file of files) form.append('files', new Blob([file.data], { type: file.type ?? 'application/octet-stream' }), file.name);
    return this.request<UploadResult>('POST', '/api/upload', { form, headers });
  }

  /** Uploads and insists on 201; returns the jobs in upload order. */
  async uploadOk(files: UploadFile[]): Promise<JobView[]> {
    const response = await this.upload(files);
    if (response.status !== 201) throw new Error(`upload failed: ${response.status} ${JSON.stringify(response.body)}`);
    return response.body.jobs;
  }

  job(id: string): Promise<Response<JobView>> {
    return this.request<JobView>('GET', `/api/jobs/${id}`);
  }

  list(query = ''): Promise<Response<JobPage>> {
    return this.request<JobPage>('GET', `/api/jobs${query}`);
  }

  retry(id: string): Promise<Response<JobView>> {
    return this.request<JobView>('POST', `/api/jobs/${id}/retry`);
  }

  remove(id: string): Promise<Response<unknown>> {
    return this.request('DELETE', `/api/jobs/${id}`);
  }

  /** Polls until the job reaches one of `statuses`. */
  async waitFor(id: string, statuses: JobStatus[] = ['completed', 'failed'], timeoutMs = 30_000): Promise<JobView> {
    const deadline = Date.now() + timeoutMs;
    let last: Response<JobView> | undefined;
    while (Date.now() < deadline) {
      last = await this.job(id);
      if (last.status === 200 && statuses.includes(last.body.status)) return last.body;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`job ${id} did not reach ${statuses.join('|')} within ${timeoutMs} ms; last: ${JSON.stringify(last?.body)}`);
  }

  /** GET a path (signed URL or not) and return the bytes. */
  async fetchBytes(pathAndQuery: string, withToken = false): Promise<{ status: number; data: Buffer; headers: Headers }> {
    const response = await fetch(this.baseUrl + pathAndQuery, { headers: withToken ? { authorization: `Bearer ${this.token}` } : {} });
    return { status: response.status, data: Buffer.from(await response.arrayBuffer()), headers: response.headers };
  }

  request<T>(method: string, path: string, options: RequestOptions = {}): Promise<Response<T>> {
    return request<T>(this.baseUrl, method, path, { ...options, headers: { authorization: `Bearer ${this.token}`, ...options.headers } });
  }
}

interface RequestOptions {
  json?: unknown;
  form?: FormData;
  headers?: Record<string, string>;
}

export async function request<T>(baseUrl: string, method: string, path: string, options: RequestOptions = {}): Promise<Response<T>> {
  const headers: Record<string, string> = { ...options.headers };
  let body: string | FormData | undefined;
  if (options.json !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(options.json);
  } else if (options.form) {
    body = options.form;
  }
  const response = await fetch(baseUrl + path, { method, headers, body });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    // not JSON
  }
  return { status: response.status, body: parsed as T, headers: response.headers };
}
