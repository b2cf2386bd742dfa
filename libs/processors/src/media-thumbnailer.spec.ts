import { writeFile } from 'node:fs/promises';
import { Logger } from '@nestjs/common';
import sharp from 'sharp';
import { loadConfig, UnprocessableMediaError } from '@app/core';
import type { Job } from '@app/jobs';
import { ffmpegBinary } from '@test/support/ffmpeg';
import { listEncoders, VideoFixtures } from '@test/support/video-fixtures';
import { ImageThumbnailer } from './image/image-thumbnailer';
import { MediaThumbnailer } from './media-thumbnailer';
import { MediaTools } from './media-tools/media-tools';
import { VideoThumbnailer } from './video/video-thumbnailer';

const FIXTURE_FFMPEG = ffmpegBinary();
const VIDEO_CODEC = listEncoders(FIXTURE_FFMPEG).has('libx264') ? 'libx264' : 'mpeg4';

function job(fileType: Job['fileType'], file: string): Job {
  const now = new Date();
  return {
    id: 'job-1',
    userId: 'user-1',
    originalFilename: file,
    fileType,
    mimeType: fileType === 'video' ? 'video/mp4' : 'image/png',
    fileSize: 1,
    status: 'processing',
    errorMessage: null,
    errorCode: null,
    originalKey: 'originals/job-1',
    thumbnailKey: null,
    thumbnail2xKey: null,
    previewKey: null,
    animatedPreviewKey: null,
    thumbhash: null,
    width: null,
    height: null,
    durationMs: null,
    contentHash: null,
    position: 'centre',
    claimToken: 'claim',
    attempts: 1,
    requestId: null,
    createdAt: now,
    updatedAt: now,
    startedAt: now,
    completedAt: null,
    deletedAt: null,
  };
}

describe('MediaThumbnailer', () => {
  let fx: VideoFixtures;
  let media: MediaThumbnailer;

  beforeAll(async () => {
    Logger.overrideLogger(false);
    fx = await VideoFixtures.create(FIXTURE_FFMPEG, 'thumbs-media-');
    const config = loadConfig({ NODE_ENV: 'test', JWT_SECRET: 'x'.repeat(32), DATA_DIR: fx.dir }, fx.dir);
    const images = new ImageThumbnailer(config);
    const tools = await MediaTools.resolve({ searchPath: process.env.PATH ?? '' });
    media = new MediaThumbnailer(images, new VideoThumbnailer(config, tools, images));
  }, 30_000);

  afterAll(async () => {
    Logger.overrideLogger(['log', 'error', 'warn', 'debug', 'verbose', 'fatal']);
    await fx?.remove();
  });

  const run = (fileType: Job['fileType'], file: string) =>
    media.thumbnail({ job: job(fileType, file), file, size: 96, signal: new AbortController().signal });

  it('sends a video job to the video thumbnailer', async () => {
    const video = await fx.make('clip.mp4', ['-f', 'lavfi', '-i', 'testsrc2=s=96x54:r=10:d=1', '-c:v', VIDEO_CODEC, '-pix_fmt', 'yuv420p']);
    expect(await sharp(await run('video', video)).metadata()).toMatchObject({ format: 'jpeg', width: 96, height: 96 });
  }, 30_000);

  it('sends an image job to the image thumbnailer', async () => {
    const image = fx.path('still.png');
    await writeFile(
      image,
      await sharp({ create: { width: 40, height: 30, channels: 3, background: '#336699' } })
        .png()
        .toBuffer(),
    );
    expect(await sharp(await run('image', image)).metadata()).toMatchObject({ format: 'jpeg', width: 96, height: 96 });
  });

  it('fails a video job whose file is an image with the video message', async () => {
    const image = fx.path('not-a-video.png');
    await writeFile(
      image,
      await sharp({ create: { width: 8, height: 8, channels: 3, background: '#000000' } })
        .png()
        .toBuffer(),
    );
    await expect(run('video', image)).rejects.toThrow(UnprocessableMediaError);
    await expect(run('video', image)).rejects.toThrow(
      'The file is not a video this service can read (MP4, MOV, AVI, WebM, MKV, MPEG-TS or 3GP).',
    );
  });
});
