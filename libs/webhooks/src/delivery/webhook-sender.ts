import * as http from 'node:http';
import * as https from 'node:https';
import type { LookupFunction } from 'node:net';
import { EXCERPT_BYTES } from '../webhook';
import type { ResolvedTarget } from './target-policy';

/** What came back from one POST: the status code and the start of the body, or why nothing came. */
export type SendResult = { ok: boolean; statusCode: number; excerpt: string } | { ok: false; statusCode: null; excerpt: string };

/**
 * POSTs `body` to a resolved target with Node's own http client (written here rather than with
 * fetch: fetch cannot be told which address to connect to). The connection goes to the address
 * checked by resolveTarget (the lookup is pinned to it, so a second DNS answer cannot switch it to
 * another host), TLS still verifies the certificate for the URL's host name, redirects are not
 * followed (a 3xx is an answer like any other), and the whole exchange is bounded by `timeoutMs`.
 */
export function sendWebhook(target: ResolvedTarget, body: string, headers: Record<string, string>, timeoutMs: number): Promise<SendResult> {
  const { url, address, family, addresses } = target;
  const pinned: LookupFunction = (_hostname, options, callback) => {
    if ((options as { all?: boolean }).all) (callback as (error: null, all: ResolvedTarget['addresses']) => void)(null, addresses);
    else callback(null, address, family);
  };
  const client = url.protocol === 'https:' ? https : http;
  return new Promise<SendResult>((resolve) => {
    let settled = false;
    /** Set once the status line is in: a body still streaming at the deadline does not undo the answer. */
    let answered: (() => void) | undefined;
    const finish = (result: SendResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      request.destroy();
      resolve(result);
    };
    const request = client.request(
      url,
      {
        method: 'POST',
        lookup: pinned,
        agent: false,
        headers: {
          ...headers,
          'content-type': 'application/json',
          'content-length': String(Buffer.byteLength(body)),
          'user-agent': 'thumbs-webhooks/1',
        },
      },
      (response) => {
        const statusCode = response.statusCode ?? 0;
        const chunks: Buffer[] = [];
        let size = 0;
        const done = () => finish({ ok: statusCode >= 200 && statusCode < 300, statusCode, excerpt: excerptOf(Buffer.concat(chunks)) });
        answered = done;
        response.on('data', (chunk: Buffer) => {
          if (size < EXCERPT_BYTES) chunks.push(chunk.subarray(0, EXCERPT_BYTES - size));
          size += chunk.length;
          // Enough for the log: the rest of a large answer is not read.
          if (size >= EXCERPT_BYTES) done();
        });
        response.on('end', done);
        response.on('error', done);
      },
    );
    const timer = setTimeout(() => {
      if (answered) answered();
      else finish({ ok: false, statusCode: null, excerpt: `No answer within ${timeoutMs} ms` });
    }, timeoutMs);
    request.on('error', (error: NodeJS.ErrnoException) =>
      finish({ ok: false, statusCode: null, excerpt: excerptOf(Buffer.from(`${error.code ?? 'error'}: ${error.message}`)) }),
    );
    request.end(body);
  });
}

/** UTF-8 text of at most EXCERPT_BYTES bytes (a character cut in half is dropped, not replaced). */
export function excerptOf(bytes: Buffer): string {
  let text = bytes.subarray(0, EXCERPT_BYTES).toString('utf8');
  while (Buffer.byteLength(text) > EXCERPT_BYTES || text.endsWith('\uFFFD')) text = text.slice(0, -1);
  return text;
}
