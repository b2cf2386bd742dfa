import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { UnprocessableMediaError } from '@app/core';
import { abortReason } from '../../media-tools/tool-process';
import { pixelLimitError } from '../../pixel-limit';
import { HEIC_WORKER_SOURCE } from './heic-worker-source';

/** What the decoding thread sends back: the primary image as an uncompressed TIFF sharp reads. */
export interface DecodedHeic {
  tiff: Buffer;
  width: number;
  height: number;
  channels: 3 | 4;
}

/** A compiled wasm module (the project's TypeScript lib has no DOM or WebAssembly types). */
type WasmModule = object;
const wasm = (globalThis as unknown as { WebAssembly: { Module: new (bytes: Uint8Array) => WasmModule } }).WebAssembly;

type WorkerReply =
  | { ok: true; tiff: ArrayBuffer; width: number; height: number; channels: 3 | 4 }
  | { ok: false; reason: string; message: string };

/** Where libheif-js keeps its emscripten glue and wasm binary (resolved from this file, so from any working directory). */
function libheifFiles(): { glue: string; wasm: string } {
  const resolve = createRequire(__filename).resolve;
  return { glue: resolve('libheif-js/libheif-wasm/libheif.js'), wasm: resolve('libheif-js/libheif-wasm/libheif.wasm') };
}

/**
 * HEIC/HEIF (HEVC-coded) images, which sharp's prebuilt libvips cannot decode (its libheif has no
 * HEVC decoder), decoded with libheif-js: libheif 1.23 and libde265 compiled to WebAssembly, from
 * npm alone. Each decode runs in a thread of its own:
 * - the event loop stays free while a 48 MP photo decodes for seconds;
 * - aborting (JOB_TIMEOUT_MS, shutdown) terminates the thread, wasm and all, at once;
 * - a wasm heap only grows, so the thread ends after its one file and the memory goes with it
 *   (a process-wide instance would keep the largest photo's ~600 MB for good).
 * The wasm module is compiled once per process and shared with every thread.
 * The caller checks the header (size against MAX_INPUT_PIXELS) before; the thread checks again.
 */
export class HeicDecoder {
  private static compiled?: { glue: string; module: WasmModule };

  /** libheif's version, once loaded (for health). */
  static readonly version = '1.23';

  /** Whether the wasm decoder loads here; compiles it on first use. */
  static available(): boolean {
    try {
      HeicDecoder.load();
      return true;
    } catch {
      return false;
    }
  }

  private static load(): { glue: string; module: WasmModule } {
    if (!HeicDecoder.compiled) {
      const { glue, wasm: wasmFile } = libheifFiles();
      HeicDecoder.compiled = { glue, module: new wasm.Module(readFileSync(wasmFile)) };
    }
    return HeicDecoder.compiled;
  }

  decode(file: string, maxPixels: number, icc: Buffer | undefined, signal: AbortSignal): Promise<DecodedHeic> {
    signal.throwIfAborted();
    const { glue, module } = HeicDecoder.load();
    return new Promise<DecodedHeic>((resolve, reject) => {
      const worker = new Worker(HEIC_WORKER_SOURCE, {
        eval: true,
        workerData: { glue, module, file, maxPixels, icc: icc ? new Uint8Array(icc) : null },
        stdout: true,
        stderr: true,
      });
      let settled = false;
      const settle = (finish: () => void): void => {
        if (settled) return;
        settled = true;
        signal.removeEventListener('abort', onAbort);
        void worker.terminate();
        finish();
      };
      const onAbort = (): void => settle(() => reject(abortReason(signal)));
      signal.addEventListener('abort', onAbort, { once: true });
      worker.once('message', (reply: WorkerReply) => {
        if (reply.ok) {
          const { tiff, width, height, channels } = reply;
          settle(() => resolve({ tiff: Buffer.from(tiff), width, height, channels }));
        } else settle(() => reject(heicError(reply.reason, reply.message, maxPixels)));
      });
      worker.once('error', (error) => settle(() => reject(heicError('undecodable', error.message, maxPixels))));
      worker.once('exit', (code) => settle(() => reject(heicError('undecodable', `the decoder stopped (exit code ${code})`, maxPixels))));
    });
  }
}

/**
 * libheif refuses to decode a picture larger than its header (ispe) says, give or take 64 pixels a
 * side, in these words ("Memory allocation error: Security limit exceeded: Image size 4000x3000
 * exceeds the maximum image size 14336", the limit worked out from the header's size).
 */
const LARGER_THAN_HEADER = /security limit exceeded: image size (\d+)x(\d+) exceeds the maximum image size/i;

/**
 * libheif's words → a failure a person can act on. Out-of-memory is the machine's problem: retried,
 * not blamed on the file. A picture larger than its header says is refused as any picture of its
 * real size would be (MAX_INPUT_PIXELS), else as damaged, without libheif's words.
 */
function heicError(reason: string, detail: string, maxPixels: number): Error {
  const larger = LARGER_THAN_HEADER.exec(detail);
  if (larger) {
    const [width, height] = [Number(larger[1]), Number(larger[2])];
    return (
      pixelLimitError('image', width, height, maxPixels) ??
      new UnprocessableMediaError(
        `The HEIC image is damaged: its picture (${width}×${height}) is larger than its header says. Export it again from the phone or photo app and upload it again.`,
        'undecodable',
      )
    );
  }
  if (/security limit/i.test(detail)) {
    return new UnprocessableMediaError(
      'The HEIC image describes itself beyond what is safe to decode; it is probably damaged. Export it again from the phone or photo app and upload it again.',
      'undecodable',
    );
  }
  if (/memory|allocation/i.test(detail)) return new Error(`HEIC decoding ran out of memory: ${detail}`);
  if (reason === 'too_many_pixels')
    return new UnprocessableMediaError('The image has too many pixels to process safely.', 'too_many_pixels');
  const said = detail ? ` (${detail.replace(/[.\s]+$/, '')})` : '';
  if (/end of data|end of file|truncat|no more input|insufficient/i.test(detail)) {
    return new UnprocessableMediaError(`The HEIC image is incomplete or damaged${said}. Upload the complete file again.`, 'truncated');
  }
  return new UnprocessableMediaError(
    `The HEIC image is damaged and could not be decoded${said}. Export it again from the phone or photo app and upload it again.`,
    'undecodable',
  );
}
