import fc from 'fast-check';
import * as fs from 'node:fs';
import * as path from 'node:path';
import sharp from 'sharp';
import { ApiClient, UploadFile } from '../support/client';
import { ffmpegBinary } from '../support/ffmpeg';
import { meanColour } from '../support/media';
import { TestStack } from '../support/stack';
import { StatusHistory } from '../support/status-history';
import { quadrantsGraph, VideoFixtures } from '../support/video-fixtures';

jest.setTimeout(600_000);

const SINE = (seconds: number) => ['-f', 'lavfi', '-i', `sine=frequency=330:duration=${seconds}`];
const H264 = ['-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p'];

/**
 * Videos through the whole pipeline (built api, two built workers, Redis, SQLite): what a new
 * user uploads, and the video properties of the design. Every video is generated here with ffmpeg.
 */
describe('video pipeline', () => {
  let stack: TestStack;
  let history: StatusHistory;
  let fx: VideoFixtures;
  const videos = new Map<string, UploadFile>();

  beforeAll(async () => {
    fx = await VideoFixtures.create(ffmpegBinary());
    const read = (name: string, file: string, type: string): UploadFile => ({ name, type, data: fs.readFileSync(file) });
    // A phone video: landscape pixels with a quarter-turn display matrix (held upright), and sound.
    const phoneSource = await fx.make('phone-source.mp4', [
      ...SINE(2),
      '-filter_complex',
      quadrantsGraph(320, 180, 15, 2),
      '-map',
      '[v]',
      '-map',
      '0:a',
      ...H264,
      '-c:a',
      'aac',
      '-shortest',
    ]);
    videos.set('phone', read('IMG_0042.MOV', await fx.withDisplayMatrix(phoneSource, 'phone.mov', [0, 1, -1, 0]), 'video/quicktime'));
    // A screen recording as browsers make them: VP9 WebM written as a stream, without a duration.
    videos.set(
      'screen',
      read(
        'screen-recording.webm',
        await fx.makePiped(
          'screen.webm',
          ['-f', 'lavfi', '-i', 'testsrc2=size=640x360:rate=10:duration=3', '-c:v', 'libvpx-vp9', '-deadline', 'realtime', '-b:v', '300k'],
          'webm',
        ),
        'video/webm',
      ),
    );
    const full = await fx.make('full.mp4', ['-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=10:duration=2', ...H264]);
    videos.set('broken', read('clip.mp4', await fx.truncated(full, 'broken.mp4', 0.4), 'video/mp4'));
    videos.set('mp4', read('h264.mp4', full, 'video/mp4'));
    videos.set(
      'avi',
      read(
        'mpeg4.avi',
        await fx.make('mpeg4.avi', ['-f', 'lavfi', '-i', 'testsrc2=size=160x120:rate=10:duration=2', '-c:v', 'mpeg4']),
        'video/x-msvideo',
      ),
    );
    videos.set(
      'vp8',
      read(
        'vp8.webm',
        await fx.make('vp8.webm', [
          '-f',
          'lavfi',
          '-i',
          'testsrc2=size=160x90:rate=10:duration=1',
          ...SINE(1),
          '-c:v',
          'libvpx',
          '-c:a',
          'libopus',
        ]),
        'video/webm',
      ),
    );
    videos.set(
      'short',
      read(
        'blink.mp4',
        await fx.make('blink.mp4', ['-f', 'lavfi', '-i', 'testsrc2=size=160x120:rate=25:duration=0.2', ...H264]),
        'video/mp4',
      ),
    );
    videos.set(
      'hevc',
      read(
        'hevc.mp4',
        await fx.make('hevc.mp4', [
          '-f',
          'lavfi',
          '-i',
          'testsrc2=size=160x120:rate=10:duration=1',
          '-c:v',
          'libx265',
          '-preset',
          'ultrafast',
          '-x265-params',
          'log-level=error',
          '-tag:v',
          'hvc1',
        ]),
        'video/mp4',
      ),
    );

    stack = await TestStack.start({ workers: 2 });
    history = new StatusHistory(path.join(stack.dir, 'thumbs.db'));
  });

  afterAll(async () => {
    history?.close();
    await stack?.stop();
    await fx?.remove();
  });

  it('gives a phone video and a screen recording sensible thumbnails, fails a broken clip with a message, and goes on', async () => {
    const user = await ApiClient.register(stack.baseUrl);
    const [phone, screen, broken] = await user.uploadOk([videos.get('phone')!, videos.get('screen')!, videos.get('broken')!]);
    for (const job of [phone, screen, broken]) expect(job.fileType).toBe('video');

    const phoneDone = await user.waitFor(phone.id, ['completed', 'failed'], 60_000);
    expect(phoneDone.status).toBe('completed');
    const thumb = (await user.fetchBytes(phoneDone.thumbnailUrl!)).data;
    expect(await sharp(thumb).metadata()).toMatchObject({ format: 'jpeg', width: 128, height: 128 });
    // Held upright: the stored top-left (red) quadrant shows at the top right, bottom-left (blue) at the top left.
    const corner = (left: number, top: number) => meanColour(thumb, { left, top, width: 16, height: 16 });
    const [r1, g1, b1] = await corner(104, 8);
    expect(r1).toBeGreaterThan(180);
    expect(g1 + b1).toBeLessThan(120);
    const [r2, g2, b2] = await corner(8, 8);
    expect(b2).toBeGreaterThan(180);
    expect(r2 + g2).toBeLessThan(120);

    const screenDone = await user.waitFor(screen.id, ['completed', 'failed'], 60_000);
    expect(screenDone.status).toBe('completed');
    expect(await sharp((await user.fetchBytes(screenDone.thumbnailUrl!)).data).metadata()).toMatchObject({ width: 128, height: 128 });

    const brokenDone = await user.waitFor(broken.id, ['completed', 'failed'], 60_000);
    expect(brokenDone.status).toBe('failed');
    expect(brokenDone.errorMessage).toMatch(/truncated|incomplete|damaged|not finished/i);
    expect(brokenDone.errorMessage).not.toMatch(/\n|\/tmp\/|at .*:\d+:\d+/);

    // The workers went on.
    const [after] = await user.uploadOk([videos.get('avi')!]);
    expect((await user.waitFor(after.id, ['completed', 'failed'], 60_000)).status).toBe('completed');
    expect(stack.workers.every((worker) => worker.running)).toBe(true);
  });

  // Heavy cases: every run decodes a real video through the pipeline, so 30 runs over the generated
  // set (each video several times, with random names), not 100.
  const anyGoodVideo = fc.constantFrom('phone', 'screen', 'mp4', 'avi', 'vp8', 'short', 'hevc');
  const named = (key: string, suffix: string): UploadFile => {
    const video = videos.get(key)!;
    return { ...video, name: `${suffix}${path.extname(video.name)}` };
  };

  // Feature: thumbnail-generation-system, Property 20: a video job is processing before its frame is extracted.
  it('Property 20: video job status transition (Requirements 5.1)', async () => {
    const user = await ApiClient.register(stack.baseUrl);
    await fc.assert(
      fc.asyncProperty(anyGoodVideo, fc.stringMatching(/^[a-z0-9]{1,12}$/), async (key, name) => {
        const [job] = await user.uploadOk([named(key, name)]);
        await user.waitFor(job.id, ['completed', 'failed'], 60_000);
        const statuses = history.of(job.id);
        expect(statuses).toEqual(['pending', 'queued', 'processing', 'completed']);
        const processingAt = history.all().find((c) => c.jobId === job.id && c.status === 'processing')!.at;
        expect(fs.statSync(path.join(stack.dir, 'files', 'processed', job.id, 'thumb.jpg')).mtimeMs).toBeGreaterThanOrEqual(
          processingAt - 10,
        ); // the kernel's coarse file clock lags by up to a tick
      }),
      { numRuns: 30 },
    );
  });

  // Feature: thumbnail-generation-system, Property 23: a processed video has its thumbnail file in storage.
  it('Property 23: video thumbnail file existence (Requirements 5.4)', async () => {
    const user = await ApiClient.register(stack.baseUrl);
    await fc.assert(
      fc.asyncProperty(anyGoodVideo, fc.stringMatching(/^[a-z0-9]{1,12}$/), async (key, name) => {
        const [job] = await user.uploadOk([named(key, name)]);
        expect((await user.waitFor(job.id, ['completed', 'failed'], 60_000)).status).toBe('completed');
        const file = path.join(stack.dir, 'files', 'processed', job.id, 'thumb.jpg');
        expect(await sharp(fs.readFileSync(file)).metadata()).toMatchObject({ format: 'jpeg', width: 128, height: 128, space: 'srgb' });
      }),
      { numRuns: 30 },
    );
  });

  // Feature: thumbnail-generation-system, Property 24: once the video thumbnail is saved the job is completed.
  it('Property 24: video completion status (Requirements 5.5)', async () => {
    const user = await ApiClient.register(stack.baseUrl);
    await fc.assert(
      fc.asyncProperty(anyGoodVideo, async (key) => {
        const [job] = await user.uploadOk([videos.get(key)!]);
        const done = await user.waitFor(job.id, ['completed', 'failed'], 60_000);
        expect(done.status).toBe('completed');
        expect(done.completedAt).not.toBeNull();
        expect(history.job(job.id)!.thumbnail_key).toBe(`processed/${job.id}/thumb.jpg`);
        expect((await user.fetchBytes(done.thumbnailUrl!)).status).toBe(200);
      }),
      { numRuns: 30 },
    );
  });
});
