import * as fs from 'node:fs';
import * as http from 'node:http';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import type { UploadResult } from '@app/shared';

/** A file to upload: bytes in memory, a file on disk, or chunks produced on the fly (never held whole). */
export interface UploadSource {
  name: string;
  type: string;
  size: number;
  body: Buffer | { path: string } | (() => AsyncIterable<Buffer> | Iterable<Buffer>);
}

export interface UploadOutcome {
  status: number;
  body: UploadResult & { message?: unknown };
  /** performance.now() when the request started and when the whole response had arrived. */
  startedAt: number;
  respondedAt: number;
}

/** Keep-alive connections, as a browser or an SDK would use. */
export const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

/**
 * POST /api/upload with one file in the multipart field "files", streamed: the body is written
 * as it is produced (with backpressure), with an exact Content-Length.
 */
export function upload(baseUrl: string, token: string, file: UploadSource): Promise<UploadOutcome> {
  const boundary = `----thumbsbench${randomBytes(12).toString('hex')}`;
  // allowDuplicates: the bench sends the same sources again (duplicate content is refused otherwise).
  const head = Buffer.from(
    `--${boundary}\r\nContent-Disposition: form-data; name="allowDuplicates"\r\n\r\ntrue\r\n` +
      `--${boundary}\r\nContent-Disposition: form-data; name="files"; filename="${file.name}"\r\nContent-Type: ${file.type}\r\n\r\n`,
  );
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  const url = new URL('/api/upload', baseUrl);
  const startedAt = performance.now();
  return new Promise<UploadOutcome>((resolve, reject) => {
    const req = http.request(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        method: 'POST',
        agent,
        headers: {
          authorization: `Bearer ${token}`,
          'content-type': `multipart/form-data; boundary=${boundary}`,
          'content-length': String(head.length + file.size + tail.length),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.once('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let body: unknown = text;
          try {
            body = JSON.parse(text);
          } catch {
            // not JSON
          }
          resolve({ status: res.statusCode ?? 0, body: body as UploadOutcome['body'], startedAt, respondedAt: performance.now() });
        });
        res.once('error', reject);
      },
    );
    req.once('error', reject);
    void (async () => {
      req.write(head);
      if (Buffer.isBuffer(file.body)) {
        req.write(file.body);
      } else {
        const chunks = 'path' in file.body ? fs.createReadStream(file.body.path, { highWaterMark: 1024 * 1024 }) : file.body();
        for await (const chunk of chunks) {
          if (!req.write(chunk)) await once(req, 'drain');
        }
      }
      req.end(tail);
    })().catch((error: unknown) => req.destroy(error as Error));
  });
}

/** JSON request with a bearer token; resolves status, parsed body and the time it took. */
export async function getJson<T>(baseUrl: string, path: string, token?: string): Promise<{ status: number; body: T; ms: number }> {
  const url = new URL(path, baseUrl);
  const startedAt = performance.now();
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname + url.search,
        method: 'GET',
        agent,
        headers: token ? { authorization: `Bearer ${token}` } : {},
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.once('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({ status: res.statusCode ?? 0, body: (text ? JSON.parse(text) : null) as T, ms: performance.now() - startedAt });
        });
        res.once('error', reject);
      },
    );
    req.once('error', reject);
    req.end();
  });
}

export async function sendJson<T>(
  baseUrl: string,
  method: string,
  path: string,
  json: unknown,
  token?: string,
): Promise<{ status: number; body: T }> {
  const response = await fetch(new URL(path, baseUrl), {
    method,
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: json === undefined ? undefined : JSON.stringify(json),
  });
  const text = await response.text();
  return { status: response.status, body: (text ? JSON.parse(text) : null) as T };
}
