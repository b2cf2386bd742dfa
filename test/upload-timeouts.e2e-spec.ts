import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { ApiClient } from './support/client';
import { media } from './support/media';
import { TestStack } from './support/stack';

jest.setTimeout(120_000);

const IDLE_MS = 3000;
const BOUNDARY = '----thumbs-trickle-boundary';

function part(name: string, data: Buffer): Buffer {
  return Buffer.concat([
    Buffer.from(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="files"; filename="${name}"\r\nContent-Type: image/jpeg\r\n\r\n`),
    data,
    Buffer.from('\r\n'),
  ]);
}

/**
 * A raw HTTP/1.1 upload whose body is written by `send` (as slowly as it likes); resolves the
 * status line and body of the answer, and when the server closed the connection.
 */
function rawUpload(
  baseUrl: string,
  token: string,
  contentLength: number,
  send: (socket: net.Socket) => Promise<void>,
): Promise<{ status: number; body: Record<string, unknown>; closedAt: number }> {
  const { hostname, port } = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: hostname, port: Number(port) });
    let received = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (received += chunk));
    socket.on('error', reject);
    socket.on('close', () => {
      const [head, ...rest] = received.split('\r\n\r\n');
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0);
      let body: Record<string, unknown>;
      try {
        body = JSON.parse(rest.join('\r\n\r\n')) as Record<string, unknown>;
      } catch {
        body = { raw: received };
      }
      resolve({ status, body, closedAt: Date.now() });
    });
    socket.once('connect', () => {
      socket.write(
        `POST /api/upload HTTP/1.1\r\nHost: ${hostname}:${port}\r\nAuthorization: Bearer ${token}\r\n` +
          `Content-Type: multipart/form-data; boundary=${BOUNDARY}\r\nContent-Length: ${contentLength}\r\nConnection: close\r\n\r\n`,
      );
      send(socket).catch(reject);
    });
  });
}

function filesUnder(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { recursive: true, withFileTypes: true }).flatMap((entry) => (entry.isFile() ? [entry.name] : []));
}

async function idleTimeouts(baseUrl: string): Promise<number> {
  const text = await (await fetch(`${baseUrl}/metrics`)).text();
  return Number(/^thumbs_upload_idle_timeouts_total (\d+)/m.exec(text)?.[1] ?? NaN);
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('slow upload bodies (built api, SQLite, disk storage)', () => {
  let stack: TestStack;
  let user: ApiClient;

  beforeAll(async () => {
    stack = await TestStack.start({ workers: 0, env: { UPLOAD_IDLE_TIMEOUT_MS: String(IDLE_MS) } });
    user = await ApiClient.register(stack.baseUrl);
  });
  afterAll(() => stack?.stop());

  it('aborts a body that stalls with 408 in the error shape, removes what it wrote and counts it', async () => {
    const before = await idleTimeouts(stack.baseUrl);
    expect(before).toBe(0);
    const complete = part('complete.jpg', (await media.jpeg()).data);
    // A JPEG's first bytes (what the intake sniffs) and more than the sniffing window after them.
    const stalled = Buffer.concat([(await media.jpeg()).data, Buffer.alloc(64 * 1024, 0x5a)]);
    const started = Date.now();
    let stalledAt = 0;
    let writtenWhileStalled: string[] = [];
    const answer = await rawUpload(stack.baseUrl, user.token, complete.length + 100_000, async (socket) => {
      // One whole file, then the start of another (past the sniffing window), then nothing.
      socket.write(complete);
      socket.write(part('stalled.jpg', stalled.subarray(0, 32 * 1024)).subarray(0, -2));
      stalledAt = Date.now();
      // While it stalls, the first file is stored and the second is being written to a temporary file.
      const deadline = Date.now() + IDLE_MS - 500;
      while (filesUnder(path.join(stack.dir, 'files')).length < 2 && Date.now() < deadline) await pause(20);
      writtenWhileStalled = filesUnder(path.join(stack.dir, 'files'));
    });
    expect(writtenWhileStalled).toHaveLength(2);
    expect(writtenWhileStalled.some((name) => name.endsWith('.part'))).toBe(true);
    expect(answer.status).toBe(408);
    expect(answer.body).toEqual({ statusCode: 408, error: 'Request Timeout', message: expect.stringMatching(/no bytes .* 3 s/i) });
    expect(answer.closedAt - stalledAt).toBeGreaterThanOrEqual(IDLE_MS - 300);
    expect(answer.closedAt - started).toBeLessThan(30_000);
    // Neither the stored file nor the part being written is left, temporary or not.
    expect(filesUnder(path.join(stack.dir, 'files'))).toEqual([]);
    expect((await user.list()).body.items).toEqual([]);
    expect(await idleTimeouts(stack.baseUrl)).toBe(before + 1);
  });

  it('lets a body that trickles (a chunk within every idle period) run longer than the timeout and succeed', async () => {
    const body = Buffer.concat([part('trickled.jpg', (await media.jpeg()).data), Buffer.from(`--${BOUNDARY}--\r\n`)]);
    const chunks = 6;
    const size = Math.ceil(body.length / chunks);
    const started = Date.now();
    const answer = await rawUpload(stack.baseUrl, user.token, body.length, async (socket) => {
      for (let i = 0; i < chunks; i += 1) {
        socket.write(body.subarray(i * size, (i + 1) * size));
        if (i < chunks - 1) await pause(IDLE_MS / 2);
      }
    });
    expect(Date.now() - started).toBeGreaterThan(IDLE_MS * 2);
    expect(answer.status).toBe(201);
    expect((answer.body.jobs as unknown[]).length).toBe(1);
    expect(await idleTimeouts(stack.baseUrl)).toBe(1);
  });
});
