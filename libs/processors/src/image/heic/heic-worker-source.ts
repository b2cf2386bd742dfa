/**
 * The code of the HEIC decoding thread, run with `new Worker(source, { eval: true })`. It is plain
 * JavaScript in a string so that the webpack bundle, Jest and the bench (swc-node) all run the same
 * thing without a separate file to ship. It instantiates libheif (wasm) from the module compiled
 * once by the main thread, decodes the file's primary image (libheif applies irot/imir/clap) to
 * interleaved 8-bit RGB or RGBA, and sends it back as an uncompressed TIFF (with the file's ICC
 * profile, when it has one) in a transferred buffer: one copy out of the wasm heap, none on the way
 * back. The thread then ends, and its wasm memory (which never shrinks) with it.
 *
 * workerData: { glue: path of libheif.js, module: WebAssembly.Module, file, maxPixels, icc: Uint8Array | null }
 * Posts { ok: true, tiff: ArrayBuffer, width, height, channels } or { ok: false, reason, message }.
 */
export const HEIC_WORKER_SOURCE = String.raw`
'use strict';
const { parentPort, workerData } = require('node:worker_threads');
const fs = require('node:fs');

function fail(reason, message) {
  parentPort.postMessage({ ok: false, reason, message: String(message || '').slice(0, 200) });
}

// An uncompressed, chunky TIFF: header, one IFD, its arrays, the ICC profile, then the pixels in strips.
function tiffLayout(width, height, channels, premultiplied, icc) {
  const rowBytes = width * channels;
  const rowsPerStrip = Math.max(1, Math.floor((256 * 1024) / rowBytes));
  const strips = Math.ceil(height / rowsPerStrip);
  const entries = [];
  const extra = [];
  let dataOffset = 0;
  const tags = [
    [256, 4, 1, [width]],
    [257, 4, 1, [height]],
    [258, 3, channels, new Array(channels).fill(8)],
    [259, 3, 1, [1]],
    [262, 3, 1, [2]],
    [273, 4, strips, null],
    [277, 3, 1, [channels]],
    [278, 4, 1, [rowsPerStrip]],
    [279, 4, strips, null],
    [284, 3, 1, [1]],
  ];
  if (channels === 4) tags.push([338, 3, 1, [premultiplied ? 1 : 2]]);
  if (icc) tags.push([34675, 7, icc.length, null]);
  const ifdBytes = 2 + tags.length * 12 + 4;
  const arraysStart = 8 + ifdBytes;
  let cursor = arraysStart;
  const placed = {};
  for (const [tag, type, count] of tags) {
    const size = (type === 4 ? 4 : type === 3 ? 2 : 1) * count;
    if (size > 4) {
      placed[tag] = cursor;
      cursor += size + (size % 2);
    }
  }
  const pixelOffset = cursor;
  const total = pixelOffset + rowBytes * height;
  const buffer = new ArrayBuffer(total);
  const view = new DataView(buffer);
  const bytes = new Uint8Array(buffer);
  bytes.set([0x49, 0x49, 42, 0], 0);
  view.setUint32(4, 8, true);
  view.setUint16(8, tags.length, true);
  tags.forEach(([tag, type, count, values], i) => {
    const at = 10 + i * 12;
    view.setUint16(at, tag, true);
    view.setUint16(at + 2, type, true);
    view.setUint32(at + 4, count, true);
    const write = (offset) => {
      if (tag === 273) for (let s = 0; s < strips; s++) view.setUint32(offset + s * 4, pixelOffset + s * rowsPerStrip * rowBytes, true);
      else if (tag === 279) for (let s = 0; s < strips; s++) view.setUint32(offset + s * 4, Math.min(rowsPerStrip, height - s * rowsPerStrip) * rowBytes, true);
      else if (tag === 34675) bytes.set(icc, offset);
      else values.forEach((v, k) => (type === 4 ? view.setUint32(offset + k * 4, v, true) : view.setUint16(offset + k * 2, v, true)));
    };
    write(placed[tag] !== undefined ? (view.setUint32(at + 8, placed[tag], true), placed[tag]) : at + 8);
  });
  view.setUint32(10 + tags.length * 12, 0, true);
  return { buffer, bytes, pixelOffset, rowBytes };
}

async function main() {
  const { glue, module, file, maxPixels, icc } = workerData;
  const factory = require(glue);
  let initialised;
  const ready = new Promise((resolve) => (initialised = resolve));
  const libheif = factory({
    instantiateWasm(imports, receive) {
      const instance = new WebAssembly.Instance(module, imports);
      receive(instance, module);
      return instance.exports;
    },
    onRuntimeInitialized: () => initialised(),
  });
  if (!libheif.calledRun) await ready;
  const data = fs.readFileSync(file);
  const context = libheif.heif_context_alloc();
  const read = libheif.heif_context_read_from_memory(context, data);
  if (read.code.value !== 0) return fail('undecodable', read.message);
  const handle = libheif.heif_js_context_get_primary_image_handle(context);
  if (!handle || handle.code) return fail('undecodable', (handle && handle.message) || 'the file has no primary image');
  const width = libheif.heif_image_handle_get_width(handle);
  const height = libheif.heif_image_handle_get_height(handle);
  if (!(width > 0 && height > 0)) return fail('undecodable', 'the image has no pixels');
  if (width * height > maxPixels) return fail('too_many_pixels', width + 'x' + height);
  const alpha = !!libheif.heif_image_handle_has_alpha_channel(handle);
  const image = libheif.heif_js_decode_image2(
    handle,
    libheif.heif_colorspace_RGB,
    alpha ? libheif.heif_chroma_interleaved_RGBA : libheif.heif_chroma_interleaved_RGB,
  );
  if (!image || image.code || !image.channels) return fail('undecodable', (image && image.message) || 'the image could not be decoded');
  const plane = image.channels.find((channel) => channel.id == libheif.heif_channel_interleaved);
  if (!plane) return fail('undecodable', 'the decoder returned no pixels');
  const channels = alpha ? 4 : 3;
  const layout = tiffLayout(plane.width, plane.height, channels, !!image.is_premultiplied, icc);
  if (plane.stride === layout.rowBytes) layout.bytes.set(plane.data.subarray(0, layout.rowBytes * plane.height), layout.pixelOffset);
  else for (let y = 0; y < plane.height; y++) layout.bytes.set(plane.data.subarray(y * plane.stride, y * plane.stride + layout.rowBytes), layout.pixelOffset + y * layout.rowBytes);
  libheif.heif_image_release(image.image);
  parentPort.postMessage({ ok: true, tiff: layout.buffer, width: plane.width, height: plane.height, channels }, [layout.buffer]);
}

main().catch((error) => fail('undecodable', error && error.message ? error.message : error));
`;
