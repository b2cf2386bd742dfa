import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { excerptOf, sendWebhook } from './webhook-sender';

const LOOPBACK = [{ address: '127.0.0.1', family: 4 as const }];

/** A real server on 127.0.0.1 answering with `handler`; resolves its port and the requests it saw. */
async function serve(handler: http.RequestListener): Promise<{ port: number; hosts: string[]; close: () => Promise<void> }> {
  const hosts: string[] = [];
  const server = http.createServer((req, res) => {
    hosts.push(req.headers.host ?? '');
    handler(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    hosts,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

describe('sendWebhook (real HTTP on 127.0.0.1)', () => {
  it('connects to the checked address, not to what the name would resolve to', async () => {
    const server = await serve((_req, res) => res.end('ok'));
    try {
      // .invalid never resolves: the request can only arrive through the pinned address.
      const url = new URL(`http://hooks.example.invalid:${server.port}/in`);
      const result = await sendWebhook({ url, address: '127.0.0.1', family: 4, addresses: LOOPBACK }, '{}', {}, 5000);
      expect(result).toEqual({ ok: true, statusCode: 200, excerpt: 'ok' });
      expect(server.hosts).toEqual([`hooks.example.invalid:${server.port}`]);
    } finally {
      await server.close();
    }
  });

  it('does not follow redirects', async () => {
    const server = await serve((_req, res) => res.writeHead(307, { location: 'http://169.254.169.254/latest/meta-data/' }).end());
    try {
      const url = new URL(`http://127.0.0.1:${server.port}/`);
      const result = await sendWebhook({ url, address: '127.0.0.1', family: 4, addresses: LOOPBACK }, '{}', {}, 5000);
      expect(result).toMatchObject({ ok: false, statusCode: 307 });
      expect(server.hosts).toHaveLength(1);
    } finally {
      await server.close();
    }
  });

  it('gives up after the timeout and keeps at most 512 bytes of an answer', async () => {
    const server = await serve((req, res) => {
      if (req.url === '/big') res.writeHead(500).end('é'.repeat(2000));
      if (req.url === '/trickle') res.writeHead(202).write('accepted, ');
      // '/slow': never answered
    });
    try {
      const started = Date.now();
      const slow = await sendWebhook(
        { url: new URL(`http://127.0.0.1:${server.port}/slow`), address: '127.0.0.1', family: 4, addresses: LOOPBACK },
        '{}',
        {},
        300,
      );
      expect(slow).toEqual({ ok: false, statusCode: null, excerpt: 'No answer within 300 ms' });
      expect(Date.now() - started).toBeLessThan(5000);
      const big = await sendWebhook(
        { url: new URL(`http://127.0.0.1:${server.port}/big`), address: '127.0.0.1', family: 4, addresses: LOOPBACK },
        '{}',
        {},
        5000,
      );
      expect(big.statusCode).toBe(500);
      expect(Buffer.byteLength(big.excerpt)).toBe(512);
      expect(big.excerpt).toBe('é'.repeat(256));
      // An answer whose body is still coming at the deadline counts by its status.
      const trickle = await sendWebhook(
        { url: new URL(`http://127.0.0.1:${server.port}/trickle`), address: '127.0.0.1', family: 4, addresses: LOOPBACK },
        '{}',
        {},
        300,
      );
      expect(trickle).toEqual({ ok: true, statusCode: 202, excerpt: 'accepted, ' });
    } finally {
      await server.close();
    }
  });

  it('cuts excerpts on a character boundary', () => {
    expect(Buffer.byteLength(excerptOf(Buffer.from('a' + '€'.repeat(300))))).toBeLessThanOrEqual(512);
    expect(excerptOf(Buffer.from('a' + '€'.repeat(300)))).toBe('a' + '€'.repeat(170));
  });
});
