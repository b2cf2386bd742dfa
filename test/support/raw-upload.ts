import * as net from 'node:net';

/** Multipart boundary of the raw uploads below. */
export const BOUNDARY = '----thumbs-raw-upload-boundary';

/** One file part of a multipart body in the field "files" (its closing CRLF included). */
export function part(name: string, data: Buffer, type = 'image/jpeg'): Buffer {
  return Buffer.concat([
    Buffer.from(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="files"; filename="${name}"\r\nContent-Type: ${type}\r\n\r\n`),
    data,
    Buffer.from('\r\n'),
  ]);
}

/** The end of a multipart body. */
export const CLOSING = Buffer.from(`--${BOUNDARY}--\r\n`);

export interface RawAnswer {
  status: number;
  headers: string;
  body: Record<string, unknown>;
  closedAt: number;
}

/**
 * A raw HTTP/1.1 upload over a socket whose body is written by `send` (as slowly as it likes, or
 * not at all); resolves the status, headers and JSON body of the answer once the server closes
 * the connection (status 0 when it closed without answering).
 */
export function rawUpload(
  baseUrl: string,
  token: string,
  contentLength: number,
  send: (socket: net.Socket) => Promise<void>,
  headers: Record<string, string> = {},
): Promise<RawAnswer> {
  return rawRequest(
    baseUrl,
    'POST',
    '/api/upload',
    {
      Authorization: `Bearer ${token}`,
      ...headers,
      'Content-Type': `multipart/form-data; boundary=${BOUNDARY}`,
      'Content-Length': String(contentLength),
    },
    send,
  );
}

/** Any raw HTTP/1.1 request (`Connection: close`), its body written by `send`; answered as rawUpload's. */
export function rawRequest(
  baseUrl: string,
  method: string,
  target: string,
  headers: Record<string, string>,
  send: (socket: net.Socket) => Promise<void>,
): Promise<RawAnswer> {
  const { hostname, port } = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: hostname, port: Number(port) });
    let received = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (received += chunk));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      const [head, ...rest] = received.split('\r\n\r\n');
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0);
      let body: Record<string, unknown>;
      try {
        body = JSON.parse(rest.join('\r\n\r\n')) as Record<string, unknown>;
      } catch {
        body = { raw: received };
      }
      resolve({ status, headers: head, body, closedAt: Date.now() });
    });
    socket.once('connect', () => {
      const lines = Object.entries({ Host: `${hostname}:${port}`, ...headers, Connection: 'close' })
        .map(([name, value]) => `${name}: ${value}\r\n`)
        .join('');
      socket.write(`${method} ${target} HTTP/1.1\r\n${lines}\r\n`);
      send(socket).catch(reject);
    });
  });
}
