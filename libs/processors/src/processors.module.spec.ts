import * as os from 'node:os';
import { Global, Logger, Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { AppConfig, loadConfig } from '@app/core';
import { MediaThumbnailer } from './media-thumbnailer';
import { MediaTools } from './media-tools/media-tools';
import { ProcessorsModule } from './processors.module';
import { VideoThumbnailer } from './video/video-thumbnailer';

const config = loadConfig({ NODE_ENV: 'test', JWT_SECRET: 'x'.repeat(32), DATA_DIR: os.tmpdir() }, os.tmpdir());

/** What CoreModule gives the worker: the loaded config, globally. */
@Global()
@Module({ providers: [{ provide: AppConfig, useValue: config }], exports: [AppConfig] })
class ConfigModule {}

describe('ProcessorsModule', () => {
  beforeAll(() => {
    Logger.overrideLogger(false);
  });
  afterAll(() => {
    Logger.overrideLogger(['log', 'error', 'warn', 'debug', 'verbose', 'fatal']);
  });

  it('resolves ffmpeg and ffprobe while starting and wires the video thumbnailer', async () => {
    const module = await Test.createTestingModule({ imports: [ConfigModule, ProcessorsModule] }).compile();
    await module.init();
    const tools = module.get(MediaTools).describe();
    for (const tool of [tools.ffmpeg, tools.ffprobe]) {
      expect(['env', 'system', 'npm']).toContain(tool.source);
      expect(tool.version).toMatch(/\S/);
    }
    expect(module.get(VideoThumbnailer)).toBeInstanceOf(VideoThumbnailer);
    expect(module.get(MediaThumbnailer)).toBeInstanceOf(MediaThumbnailer);
    await module.close();
  });
});
