/**
 * Section 7, media: what the renditions and the new decoders cost, measured on the processors
 * library itself in a process of its own (bench/media-probe.ts), next to bare baselines in the
 * same run:
 *  - CPU of every still rendition (thumbnail, 2x, WebP preview, ThumbHash) against the thumbnail
 *    alone as the worker made it before, on the bench photos, with PREVIEW_SIZE 1440 and 0;
 *  - HEIC (libheif-js, wasm, in a thread) against Debian's native heif-convert + sharp on the same
 *    files, and the worker's peak RSS while decoding a 12 MP and a 48 MP HEIC (and after);
 *  - an HDR (HLG, 10-bit HEVC) 1080p clip: renditions with tone mapping against bare
 *    `ffmpeg -ss mid -i … -frames:v 1` (no tone mapping);
 *  - the animated preview on a 10-minute clip against a 10-second one (input seeking: bounded).
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { ffmpegBinary } from '../../test/support/ffmpeg';
import { cachedFixture } from '../../test/support/fixture-cache';
import { ForkedScript } from '../lib/bare';
import type { Row } from '../lib/context';
import { repeatedClip, smoothNoise, testClip, type Photo } from '../lib/media';
import { log, median, round } from '../lib/util';
import type { ProbeResult, ProbeTask } from '../media-probe';

const run = promisify(execFile);
const MiB = 1024 * 1024;
const SECTION = '7 media';
/** A smaller preview measured beside the default 1440, to show what the preview size costs. */
const SMALLER_PREVIEW = 1080;

/** bench/media-probe.ts in a process of its own: one task at a time, so its CPU time is the task's. */
type Probe = ForkedScript<{ task: ProbeTask }, ProbeResult>;

function startProbe(): Promise<Probe> {
  return ForkedScript.start('media-probe.ts', {
    NODE_ENV: 'production',
    LOG_LEVEL: 'warn',
    JWT_SECRET: randomBytes(48).toString('base64url'),
    METRICS_PUBLIC: 'true',
  });
}

async function onPath(command: string): Promise<boolean> {
  return run('sh', ['-c', `command -v ${command}`]).then(
    () => true,
    () => false,
  );
}

async function timed(work: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await work();
  return performance.now() - started;
}

export async function mediaSection(
  input: { tmp: string; photos: Photo[]; repeats: number; renditionsOnly?: boolean },
  rows: Row[],
  raw: Record<string, unknown>,
): Promise<void> {
  const dir = path.join(input.tmp, 'media');
  fs.mkdirSync(dir, { recursive: true });
  const rounds = Math.max(3, Math.min(5, input.repeats));
  const figures: Record<string, unknown> = {};
  raw.media = figures;

  // ── Renditions against the thumbnail alone ─────────────────────────────────────────────────
  {
    const probe = await startProbe();
    try {
      const files = input.photos.map((photo) => photo.path);
      await probe.ask({ task: { kind: 'thumbnail-alone', files: files.slice(0, 2) } }); // warm-up
      const alone: number[] = [];
      const all: number[] = [];
      const noPreview: number[] = [];
      const smaller: number[] = [];
      for (let r = 0; r < rounds; r++) {
        alone.push((await probe.ask({ task: { kind: 'thumbnail-alone', files } })).cpuMs);
        all.push((await probe.ask({ task: { kind: 'renditions', files, previewSize: 1440 } })).cpuMs);
        noPreview.push((await probe.ask({ task: { kind: 'renditions', files, previewSize: 0 } })).cpuMs);
        smaller.push((await probe.ask({ task: { kind: 'renditions', files, previewSize: SMALLER_PREVIEW } })).cpuMs);
        log(
          `media: round ${r + 1}: CPU thumbnail alone ${round(alone[r])} ms, renditions ${round(all[r])} ms, without preview ${round(noPreview[r])} ms, preview ${SMALLER_PREVIEW} ${round(smaller[r])} ms`,
        );
      }
      // Where the CPU goes, step by step (after the rounds, so it does not disturb them).
      const steps = (await probe.ask({ task: { kind: 'rendition-steps', files, previewSize: 1440 } })).steps!;
      figures.renditionsCpuMs = { alone, all, noPreview, smaller, smallerPreviewSize: SMALLER_PREVIEW, steps };
      const ratio = median(all) / median(alone);
      const ratioNoPreview = median(noPreview) / median(alone);
      const ratioSmaller = median(smaller) / median(alone);
      rows.push(
        {
          section: SECTION,
          metric: `CPU for ${files.length} photos, medians of ${rounds} interleaved rounds: thumbnail alone ${round(median(alone))} ms; every rendition ${round(median(all))} ms; PREVIEW_SIZE=0 ${round(median(noPreview))} ms; PREVIEW_SIZE=${SMALLER_PREVIEW} ${round(median(smaller))} ms`,
          value: '',
          unit: '',
        },
        {
          section: SECTION,
          metric: `steps of every rendition, CPU summed over the photos (one pass): decode for the squares alone ${round(steps.decodeForSquares)} ms; decode for the 1440 preview ${round(steps.decodeForPreview)} ms; from that buffer the squares, JPEGs and ThumbHash ${round(steps.squares)} ms, the WebP preview ${round(steps.previewWebp)} ms`,
          value: '',
          unit: '',
        },
        {
          section: SECTION,
          metric: 'every rendition (2x, WebP preview 1440, ThumbHash) / thumbnail alone, CPU',
          value: round(ratio, 2),
          unit: '×',
          target: '≤ 1.8',
          pass: ratio <= 1.8,
        },
        {
          section: SECTION,
          metric: 'every rendition with PREVIEW_SIZE=0 / thumbnail alone, CPU',
          value: round(ratioNoPreview, 2),
          unit: '×',
          target: '≤ 1.8',
          pass: ratioNoPreview <= 1.8,
        },
        {
          section: SECTION,
          metric: `every rendition with PREVIEW_SIZE=${SMALLER_PREVIEW} / thumbnail alone, CPU (for comparison; the default stays 1440)`,
          value: round(ratioSmaller, 2),
          unit: '×',
        },
      );
    } finally {
      await probe.stop();
    }
  }

  if (input.renditionsOnly) return;

  // ── HEIC ──────────────────────────────────────────────────────────────────────────────────
  if (!(await onPath('heif-enc')) || !(await onPath('heif-convert'))) {
    rows.push({
      section: SECTION,
      metric: 'HEIC: heif-enc/heif-convert not installed (apt-get install libheif-examples): skipped',
      value: '',
      unit: '',
    });
  } else {
    const heic = async (label: string, width: number, height: number): Promise<string> => {
      const data = await cachedFixture(`bench heic ${label} ${width}x${height} q50 v1`, async () => {
        log(`media: encoding a ${label} HEIC with heif-enc (once; cached by recipe)`);
        const source = path.join(dir, `${label}.jpg`);
        await smoothNoise(width, height).jpeg({ quality: 90 }).toFile(source);
        const out = path.join(dir, `${label}.heic`);
        await run('heif-enc', ['-q', '50', source, '-o', out], { maxBuffer: 16 * MiB });
        return fs.readFileSync(out);
      });
      const file = path.join(dir, `${label}.heic`);
      fs.writeFileSync(file, data);
      return file;
    };
    const twelve = await heic('12mp', 4032, 3024);
    const fortyEight = await heic('48mp', 8064, 6048);
    for (const [label, file, count] of [
      ['12 MP', twelve, 3],
      ['48 MP', fortyEight, 2],
    ] as const) {
      // The service: every rendition, in a fresh process (its RSS before, at peak and after).
      const probe = await startProbe();
      let service: ProbeResult[] = [];
      let before: number;
      try {
        before = (await probe.ask({ task: { kind: 'rss' } })).rssAfterBytes;
        for (let i = 0; i < count; i++) service.push(await probe.ask({ task: { kind: 'renditions', files: [file], previewSize: 1440 } }));
      } finally {
        await probe.stop();
      }
      service = service.slice(-count);
      // The native baseline: heif-convert (libheif + libde265) to JPEG, then sharp's thumbnail.
      const native: number[] = [];
      for (let i = 0; i < count; i++) {
        native.push(
          await timed(async () => {
            const out = path.join(dir, `native-${i}.jpg`);
            await run('heif-convert', ['-q', '90', file, out], { maxBuffer: 16 * MiB });
            await sharp(out).resize(128, 128, { fit: 'cover' }).jpeg().toBuffer();
          }),
        );
      }
      const serviceMs = median(service.map((result) => result.ms));
      const nativeMs = median(native);
      const ratio = nativeMs / serviceMs;
      figures[`heic ${label}`] = {
        serviceMs: service.map((r) => r.ms),
        nativeMs: native,
        rss: service.map((r) => [r.peakRssBytes, r.rssAfterBytes]),
        before,
      };
      const peak = Math.max(...service.map((result) => result.peakRssBytes));
      rows.push(
        {
          section: SECTION,
          metric: `HEIC ${label}: libheif-js (wasm, thread) every rendition ${round(serviceMs)} ms; heif-convert + sharp thumbnail ${round(nativeMs)} ms (medians of ${count})`,
          value: '',
          unit: '',
        },
        {
          section: SECTION,
          metric: `HEIC ${label}: thumbnails per second, wasm / native`,
          value: round(ratio, 2),
          unit: '×',
          target: '≥ 0.5',
          pass: ratio >= 0.5,
        },
        {
          section: SECTION,
          metric: `HEIC ${label}: worker-style process RSS ${round(before / MiB)} MiB before, peak while decoding, ${round(service[service.length - 1].rssAfterBytes / MiB)} MiB after`,
          value: round(peak / MiB),
          unit: 'MiB',
        },
      );
    }
  }

  // ── HDR video and the animated preview ───────────────────────────────────────────────────
  const ffmpeg = ffmpegBinary();
  const hdr = path.join(dir, 'hdr-hlg-1080p-10s.mp4');
  fs.writeFileSync(
    hdr,
    await cachedFixture('bench hdr hlg 1080p 10s x265 ultrafast v1', async () => {
      log('media: encoding a 10 s 1080p HLG clip (once; cached by recipe)');
      await run(ffmpeg, [
        ...['-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=1920x1080:rate=25:duration=10'],
        ...['-vf', 'zscale=tin=bt709:min=bt709:pin=bt709:rin=tv:t=arib-std-b67:m=bt2020nc:p=bt2020:r=tv:npl=203,format=yuv420p10le'],
        ...[
          '-c:v',
          'libx265',
          '-preset',
          'ultrafast',
          '-x265-params',
          'log-level=error:colorprim=bt2020:transfer=arib-std-b67:colormatrix=bt2020nc:keyint=250',
        ],
        ...['-color_primaries', 'bt2020', '-color_trc', 'arib-std-b67', '-colorspace', 'bt2020nc', hdr],
      ]);
      return fs.readFileSync(hdr);
    }),
  );
  const probe = await startProbe();
  try {
    const bare: number[] = [];
    const service: number[] = [];
    const animated: number[] = [];
    await probe.ask({ task: { kind: 'video', files: [hdr], animated: false } }); // warm-up
    for (let r = 0; r < rounds; r++) {
      bare.push(
        await timed(() =>
          run(ffmpeg, ['-hide_banner', '-loglevel', 'error', '-y', '-ss', '5', '-i', hdr, '-frames:v', '1', path.join(dir, 'bare.png')]),
        ),
      );
      service.push((await probe.ask({ task: { kind: 'video', files: [hdr], animated: false } })).ms);
      animated.push((await probe.ask({ task: { kind: 'video', files: [hdr], animated: true } })).ms);
    }
    figures.hdr = { bare, service, animated };
    const ratio = median(service) / median(bare);
    rows.push(
      {
        section: SECTION,
        metric: `HDR (HLG, 10-bit HEVC) 1080p 10 s: bare ffmpeg -ss mid ${round(median(bare))} ms; renditions with tone mapping ${round(median(service))} ms; plus the animated preview ${round(median(animated))} ms`,
        value: '',
        unit: '',
      },
      {
        section: SECTION,
        metric: 'HDR: renditions with tone mapping / bare ffmpeg frame',
        value: round(ratio, 2),
        unit: '×',
        target: '≤ 1.3',
        pass: ratio <= 1.3,
      },
    );

    // Animated preview: a 10-minute clip against a 10-second one (same content and GOP).
    const segment = await testClip(dir, 'clip-10s-720p.mp4', '1280x720', 10);
    const long = await repeatedClip(dir, 'clip-10min-720p.mp4', '1280x720', 10, 60);
    const shortRuns: number[] = [];
    const longRuns: number[] = [];
    for (let r = 0; r < rounds; r++) {
      const stills = (await probe.ask({ task: { kind: 'video', files: [segment], animated: false } })).ms;
      shortRuns.push((await probe.ask({ task: { kind: 'video', files: [segment], animated: true } })).ms - stills);
      const longStills = (await probe.ask({ task: { kind: 'video', files: [long], animated: false } })).ms;
      longRuns.push((await probe.ask({ task: { kind: 'video', files: [long], animated: true } })).ms - longStills);
    }
    figures.animated = { shortRuns, longRuns };
    const growth = median(longRuns) / median(shortRuns);
    rows.push(
      {
        section: SECTION,
        metric: `animated preview (8 frames) of a 720p clip: 10 s ${round(median(shortRuns))} ms, 10 min ${round(median(longRuns))} ms`,
        value: '',
        unit: '',
      },
      {
        section: SECTION,
        metric: 'animated preview: 10 min clip / 10 s clip',
        value: round(growth, 2),
        unit: '×',
        target: '≤ 2 (seeks)',
        pass: growth <= 2,
      },
    );
  } finally {
    await probe.stop();
  }
}
