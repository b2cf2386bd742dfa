import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { ApiClient } from './support/client';
import { media } from './support/media';
import { CLOSING, part, rawRequest, rawUpload } from './support/raw-upload';
import { TestStack } from './support/stack';

jest.setTimeout(120_000);

const IDLE_MS = 3000;
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

  it('cuts a stalled body on every other route too, signed in or not, with 408 in the error shape', async () => {
    const json = { 'Content-Type': 'application/json', 'Content-Length': '100' };
    const stalls: [string, Record<string, string>][] = [
      ['/api/auth/login', json],
      ['/api/no-such-route', json],
      ['/api/jobs/bulk', { ...json, Authorization: `Bearer ${user.token}` }],
    ];
    const started = Date.now();
    const answers = await Promise.all(
      stalls.map(([target, headers]) =>
        rawRequest(stack.baseUrl, 'POST', target, headers, (socket) => Promise.resolve(void socket.write('{"email":'))),
      ),
    );
    for (const answer of answers) {
      expect(answer.status).toBe(408);
      expect(answer.body).toEqual({ statusCode: 408, error: 'Request Timeout', message: expect.stringMatching(/no bytes .* 3 s/i) });
      expect(answer.closedAt - started).toBeGreaterThanOrEqual(IDLE_MS - 300);
      expect(answer.closedAt - started).toBeLessThan(30_000);
    }
  });

  it('cuts a tus PATCH whose body stalls, keeping the bytes that came: the upload goes on from there', async () => {
    const data = Buffer.concat([(await media.jpeg()).data, Buffer.alloc(64 * 1024, 0x5a)]);
    const auth = { authorization: `Bearer ${user.token}`, 'Tus-Resumable': '1.0.0' };
    const created = await fetch(`${stack.baseUrl}/api/uploads`, {
      method: 'POST',
      headers: {
        ...auth,
        'Upload-Length': String(data.length),
        'Upload-Metadata': `filename ${Buffer.from('stalled.jpg').toString('base64')},filetype ${Buffer.from('image/jpeg').toString('base64')}`,
      },
    });
    expect(created.status).toBe(201);
    const location = new URL(created.headers.get('location')!, stack.baseUrl).pathname;
    const sent = 16 * 1024;
    const started = Date.now();
    const answer = await rawRequest(
      stack.baseUrl,
      'PATCH',
      location,
      {
        Authorization: auth.authorization,
        'Tus-Resumable': '1.0.0',
        'Upload-Offset': '0',
        'Content-Type': 'application/offset+octet-stream',
        'Content-Length': String(data.length),
      },
      (socket) => Promise.resolve(void socket.write(data.subarray(0, sent))),
    );
    expect(answer.closedAt - started).toBeGreaterThanOrEqual(IDLE_MS - 300);
    expect(answer.closedAt - started).toBeLessThan(30_000);
    expect([408, 0]).toContain(answer.status);
    const head = await fetch(`${stack.baseUrl}${location}`, { method: 'HEAD', headers: auth });
    const offset = Number(head.headers.get('upload-offset'));
    expect(offset).toBe(sent);
    // The next bytes go on from there (the last PATCH is not sent: this stack has no worker for the job it would make).
    const more = await fetch(`${stack.baseUrl}${location}`, {
      method: 'PATCH',
      headers: { ...auth, 'Upload-Offset': String(offset), 'Content-Type': 'application/offset+octet-stream' },
      body: data.subarray(offset, offset + 1024),
    });
    expect(more.status).toBe(204);
    expect(Number(more.headers.get('upload-offset'))).toBe(offset + 1024);
    expect((await fetch(`${stack.baseUrl}${location}`, { method: 'DELETE', headers: auth })).status).toBe(204);
  });

  it('keeps an idle keep-alive connection open past Node clients’ own 5 s, so the client side closes it first', async () => {
    const { port } = new URL(stack.baseUrl);
    const socket = net.connect(Number(port), '127.0.0.1');
    let received = '';
    let closedAt = 0;
    socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));
    socket.on('close', () => (closedAt = Date.now()));
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    const ask = () => socket.write('GET /api/health HTTP/1.1\r\nHost: localhost\r\nConnection: keep-alive\r\n\r\n');
    // Status lines (a response's body runs straight into the next one's status line).
    const statuses = () => received.match(/HTTP\/1\.1 \d+ [^\r]*/g) ?? [];
    const answers = () => statuses().length;
    ask();
    for (const deadline = Date.now() + 10_000; answers() < 1 && Date.now() < deadline; ) await pause(20);
    expect(received).toMatch(/^Connection: keep-alive$/im);
    expect(received).toMatch(/^Keep-Alive: timeout=65$/im);
    // Idle for longer than Node's default keep-alive (5 s, which closed the socket here before).
    await pause(6500);
    expect(closedAt).toBe(0);
    ask();
    for (const deadline = Date.now() + 10_000; answers() < 2 && Date.now() < deadline; ) await pause(20);
    expect(statuses()).toEqual(['HTTP/1.1 200 OK', 'HTTP/1.1 200 OK']);
    socket.destroy();
  });

  it('lets a body that trickles (a chunk within every idle period) run longer than the timeout and succeed', async () => {
    const body = Buffer.concat([part('trickled.jpg', (await media.jpeg()).data), CLOSING]);
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
