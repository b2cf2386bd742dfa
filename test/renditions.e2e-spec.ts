import sharp from 'sharp';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { JobView } from '@app/shared';
import { ApiClient, UploadFile } from './support/client';
import { smallVideos } from './support/ffmpeg';
import { media } from './support/media';
import { TestStack } from './support/stack';
import { StatusHistory } from './support/status-history';

jest.setTimeout(180_000);

const THUMB = 96;
const PREVIEW = 400;

/**
 * Issue 12's renditions through the real parts: the built api and a built worker on real Redis,
 * SQLite and local disk, driven over HTTP (THUMBNAIL_SIZE 96 and PREVIEW_SIZE 400, so the
 * contract's sizes are checked against non-default values).
 */
describe('renditions (api + worker, Redis, SQLite, disk)', () => {
  let stack: TestStack;
  let history: StatusHistory;
  let alice: ApiClient;
  let image: JobView;
  let video: JobView;

  const files = (jobId: string): string[] => {
    const dir = path.join(stack.dir, 'files', 'processed', jobId);
    return fs.existsSync(dir) ? fs.readdirSync(dir).sort() : [];
  };
  const stored = (jobId: string, name: string): Buffer => fs.readFileSync(path.join(stack.dir, 'files', 'processed', jobId, name));

  beforeAll(async () => {
    stack = await TestStack.start({ env: { THUMBNAIL_SIZE: String(THUMB), PREVIEW_SIZE: String(PREVIEW) } });
    history = new StatusHistory(path.join(stack.dir, 'thumbs.db'));
    alice = await ApiClient.register(stack.baseUrl);
    const [clip] = smallVideos(['clip.mp4']);
    const uploads: UploadFile[] = [await media.jpeg(800, 500, '#3a7bd5'), { name: clip.name, type: clip.type, data: clip.data }];
    const [imageJob, videoJob] = await alice.uploadOk(uploads);
    image = await alice.waitFor(imageJob.id, ['completed', 'failed'], 90_000);
    video = await alice.waitFor(videoJob.id, ['completed', 'failed'], 90_000);
  });

  afterAll(async () => {
    history?.close();
    await stack?.stop();
  });

  it('stores every rendition of an image under the job’s prefix, with the contract’s sizes, and records its measurements', async () => {
    expect(image).toMatchObject({ status: 'completed', width: 800, height: 500, durationMs: null });
    expect(image.thumbhash).toMatch(/^[A-Za-z0-9+/]{10,}={0,2}$/);
    expect(files(image.id)).toEqual(['preview.webp', 'thumb-2x.jpg', 'thumb.jpg']);
    expect(await sharp(stored(image.id, 'thumb.jpg')).metadata()).toMatchObject({ format: 'jpeg', width: THUMB, height: THUMB });
    expect(await sharp(stored(image.id, 'thumb-2x.jpg')).metadata()).toMatchObject({ format: 'jpeg', width: 2 * THUMB, height: 2 * THUMB });
    expect(await sharp(stored(image.id, 'preview.webp')).metadata()).toMatchObject({ format: 'webp', width: PREVIEW, height: 250 });
  });

  it('stores a video’s renditions too: the animated preview (looping, several frames) and its duration', async () => {
    expect(video).toMatchObject({ status: 'completed', width: 96, height: 64 });
    expect(video.durationMs).toBeGreaterThan(800);
    expect(video.durationMs).toBeLessThan(1300);
    expect(files(video.id)).toEqual(['animated.webp', 'preview.webp', 'thumb-2x.jpg', 'thumb.jpg']);
    // Never upscaled: the 96×64 clip's preview stays 96×64.
    expect(await sharp(stored(video.id, 'preview.webp')).metadata()).toMatchObject({ format: 'webp', width: 96, height: 64 });
    const animated = await sharp(stored(video.id, 'animated.webp'), { animated: true }).metadata();
    expect(animated).toMatchObject({ format: 'webp', width: 2 * THUMB, loop: 0 });
    expect(animated.pages).toBeGreaterThan(1);
    expect(animated.pageHeight).toBe(2 * THUMB);
  });

  it('removes the original and every rendition when the job is deleted', async () => {
    const bob = await ApiClient.register(stack.baseUrl);
    const [clip] = smallVideos(['clip.mp4']);
    const [job] = await bob.uploadOk([{ name: clip.name, type: clip.type, data: clip.data }]);
    await bob.waitFor(job.id, ['completed'], 90_000);
    expect(files(job.id)).toHaveLength(4);
    expect(fs.existsSync(path.join(stack.dir, 'files', 'uploads', job.id))).toBe(true);
    expect((await bob.remove(job.id)).status).toBe(204);
    expect(files(job.id)).toEqual([]);
    expect(fs.existsSync(path.join(stack.dir, 'files', 'uploads', job.id))).toBe(false);
  });
});
