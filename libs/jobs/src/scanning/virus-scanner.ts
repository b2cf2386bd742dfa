import { Injectable } from '@nestjs/common';
import * as net from 'node:net';
import type { Readable } from 'node:stream';
import { AppConfig, ServiceUnavailableError } from '@app/core';
import { StorageDriver } from '@app/storage';

export type ScanResult = { infected: false } | { infected: true; signature: string };

/** Longest a scan may take (clamd's own StreamMaxLength and timeouts apply too). */
const SCAN_TIMEOUT_MS = 60_000;
/** INSTREAM chunk size: clamd reads each one with its 4-byte length. */
const CHUNK = 64 * 1024;

/**
 * Virus scanning of originals with ClamAV's clamd over TCP (`CLAMAV_URL`, `tcp://host:3310`), off
 * when it is not set. The stored original is streamed to clamd with INSTREAM, chunk by chunk: no
 * second copy. clamd down or failing is 503 (ServiceUnavailableError): nothing passes unscanned.
 * Hand-written: the protocol is a command and length-prefixed chunks; no client library is installed.
 */
@Injectable()
export class VirusScanner {
  private readonly target: { host: string; port: number } | null;

  constructor(
    config: AppConfig,
    private readonly storage: StorageDriver,
  ) {
    this.target = config.upload.clamav;
  }

  get enabled(): boolean {
    return this.target !== null;
  }

  /** Scans a stored object; resolves clean when scanning is off. */
  async scanStored(key: string): Promise<ScanResult> {
    if (!this.target) return { infected: false };
    return this.scan(await this.storage.read(key));
  }

  scan(source: Readable): Promise<ScanResult> {
    const target = this.target;
    if (!target) return Promise.resolve({ infected: false });
    return new Promise<ScanResult>((resolve, reject) => {
      const socket = net.connect(target);
      let reply = '';
      let settled = false;
      const fail = (reason: string) => {
        if (settled) return;
        settled = true;
        source.destroy();
        socket.destroy();
        reject(
          new ServiceUnavailableError(
            `The virus scanner is unavailable (${reason}); the upload was not accepted. Try again later.`,
            'clamav',
          ),
        );
      };
      socket.setTimeout(SCAN_TIMEOUT_MS, () => fail('timed out'));
      socket.once('error', (error) => fail(error.message));
      socket.setEncoding('utf8');
      socket.on('data', (chunk: string) => (reply += chunk));
      socket.once('end', () => {
        if (settled) return;
        const text = reply.replace(/\0/g, '').trim();
        const found = /^stream: (.+) FOUND$/.exec(text);
        if (found) {
          settled = true;
          source.destroy();
          socket.destroy();
          return resolve({ infected: true, signature: found[1] });
        }
        if (text === 'stream: OK') {
          settled = true;
          socket.destroy();
          return resolve({ infected: false });
        }
        fail(`clamd answered "${text.slice(0, 200)}"`);
      });
      socket.once('connect', () => {
        void (async () => {
          try {
            socket.write('zINSTREAM\0');
            for await (const data of source as AsyncIterable<Buffer>) {
              for (let offset = 0; offset < data.length; offset += CHUNK) {
                const piece = data.subarray(offset, offset + CHUNK);
                const length = Buffer.alloc(4);
                length.writeUInt32BE(piece.length);
                if (!socket.write(Buffer.concat([length, piece]))) await new Promise((done) => socket.once('drain', done));
                if (settled) return;
              }
            }
            socket.write(Buffer.alloc(4));
          } catch (error) {
            // clamd stops reading once it has found something (or hit its size limit): its reply says which.
            if (!settled && socket.destroyed) fail((error as Error).message);
          }
        })();
      });
    });
  }
}
