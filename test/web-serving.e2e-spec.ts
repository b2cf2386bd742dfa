import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { ApiClient } from './support/client';
import { media } from './support/media';
import { TestStack } from './support/stack';

jest.setTimeout(120_000);

const WEB = path.resolve(__dirname, '../dist/apps/web/browser');

interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  /** The body as sent (still compressed when Content-Encoding says so). */
  body: Buffer;
}

/** A GET through node:http, which (unlike fetch) leaves the body as the server encoded it. */
function get(url: string, headers: Record<string, string> = {}): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      })
      .on('error', reject);
  });
}

function decode(response: RawResponse): Buffer {
  switch (response.headers['content-encoding']) {
    case 'br':
      return zlib.brotliDecompressSync(response.body);
    case 'gzip':
      return zlib.gunzipSync(response.body);
    case undefined:
      return response.body;
    default:
      throw new Error(`unexpected encoding ${response.headers['content-encoding']}`);
  }
}

/**
 * The built web app as the api serves it (`npm run build:web` output): precompressed brotli/gzip
 * assets chosen by Accept-Encoding, client-side routes answered with index.html, API JSON
 * compressed on the fly, images never.
 */
describe('web app serving: precompressed assets and compressed API JSON', () => {
  let stack: TestStack;
  let scripts: string[];

  beforeAll(async () => {
    stack = await TestStack.start({ workers: 1 });
    scripts = fs.readdirSync(WEB).filter((name) => /\.js$/.test(name));
  });

  afterAll(async () => {
    await stack?.stop();
  });

  it('sends every script as brotli, gzip or plain by Accept-Encoding, the same bytes each way, cached for a year', async () => {
    expect(scripts.length).toBeGreaterThan(3);
    for (const name of scripts) {
      const original = fs.readFileSync(path.join(WEB, name));
      const url = `${stack.baseUrl}/${name}`;
      const br = await get(url, { 'accept-encoding': 'gzip, deflate, br, zstd' });
      const gzip = await get(url, { 'accept-encoding': 'gzip' });
      const plain = await get(url, { 'accept-encoding': 'identity' });
      for (const response of [br, gzip, plain]) {
        expect(response.status).toBe(200);
        expect(response.headers['content-type']).toMatch(/^(text|application)\/javascript/);
        expect(response.headers['cache-control']).toBe('public, max-age=31536000, immutable');
        expect(decode(response).equals(original)).toBe(true);
      }
      if (original.length > 1024) {
        expect([br.headers['content-encoding'], gzip.headers['content-encoding']]).toEqual(['br', 'gzip']);
        expect(br.body.length).toBeLessThan(gzip.body.length);
        expect(br.headers.vary).toMatch(/Accept-Encoding/i);
      }
      expect(plain.headers['content-encoding']).toBeUndefined();
      expect(Number(br.headers['content-length'])).toBe(br.body.length);
    }
  });

  it('answers client-side routes with index.html (compressed, never cached), and unknown API paths or files with a 404', async () => {
    const index = fs.readFileSync(path.join(WEB, 'index.html'));
    for (const route of ['/', '/dashboard', '/jobs/0190f7c2-7a41-7c3e-9d2a-5b1e0c9f4a11', '/trash', '/settings/api-keys']) {
      const response = await get(`${stack.baseUrl}${route}`, { 'accept-encoding': 'br' });
      expect([route, response.status, response.headers['content-type']]).toEqual([
        route,
        200,
        expect.stringMatching(/^text\/html; charset=utf-8$/i),
      ]);
      expect(response.headers['cache-control']).toBe('no-cache');
      expect(decode(response).equals(index)).toBe(true);
    }
    const api = await get(`${stack.baseUrl}/api/nope`, { 'accept-encoding': 'br' });
    expect(api.status).toBe(404);
    expect(JSON.parse(decode(api).toString())).toMatchObject({ statusCode: 404 });
    expect((await get(`${stack.baseUrl}/missing-ABCDEFGH.js`)).status).toBe(404);
  });

  it('compresses API JSON for clients that accept it, and leaves thumbnails alone', async () => {
    const client = await ApiClient.register(stack.baseUrl);
    const image = await media.jpeg(320, 240, '#2e86de');
    const [job] = await client.uploadOk([{ name: 'a.jpg', data: image.data, type: 'image/jpeg' }]);
    const done = await client.waitFor(job.id);
    // Enough jobs for a page worth compressing.
    await client.uploadOk(Array.from({ length: 12 }, (_, i) => ({ name: `photo-${i}.jpg`, data: image.data, type: 'image/jpeg' })));
    const auth = { authorization: `Bearer ${client.token}` };
    const list = await get(`${stack.baseUrl}/api/jobs`, { ...auth, 'accept-encoding': 'gzip, br' });
    expect(list.status).toBe(200);
    expect(['br', 'gzip']).toContain(list.headers['content-encoding']);
    expect(list.headers.vary).toMatch(/Accept-Encoding/i);
    const items = (JSON.parse(decode(list).toString()) as { items: unknown[] }).items;
    expect(items).toHaveLength(13);
    const plain = await get(`${stack.baseUrl}/api/jobs`, { ...auth, 'accept-encoding': 'identity' });
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(list.body.length).toBeLessThan(plain.body.length / 3);

    const thumbnail = await get(`${stack.baseUrl}${done.thumbnailUrl!}`, { 'accept-encoding': 'gzip, br' });
    expect(thumbnail.status).toBe(200);
    expect(thumbnail.headers['content-type']).toBe('image/jpeg');
    expect(thumbnail.headers['content-encoding']).toBeUndefined();
  });
});
