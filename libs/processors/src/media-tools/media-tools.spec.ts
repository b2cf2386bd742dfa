import { chmod, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import ffmpegInstaller from '@ffmpeg-installer/ffmpeg';
import ffprobeInstaller from '@ffprobe-installer/ffprobe';
import { Logger } from '@nestjs/common';
import { loadConfig } from '@app/core';
import { MediaTools, MediaToolsError, readCapabilities } from './media-tools';

// The npm installer packages' binaries (the fallback), and the system's when this machine has them.
const NPM = { ffmpeg: ffmpegInstaller.path, ffprobe: ffprobeInstaller.path };
const SYSTEM_DIR = ['/usr/bin', '/usr/local/bin'].find(
  (dir) => fs.existsSync(path.join(dir, 'ffmpeg')) && fs.existsSync(path.join(dir, 'ffprobe')),
);
const withSystem = SYSTEM_DIR ? it : it.skip;
if (!SYSTEM_DIR)
  console.warn('media-tools.spec: no system ffmpeg/ffprobe in /usr/bin or /usr/local/bin; the cases needing one are skipped.');

describe('MediaTools.resolve', () => {
  let dir: string;
  let empty: string;

  beforeAll(async () => {
    Logger.overrideLogger(false);
    dir = await mkdtemp(path.join(os.tmpdir(), 'thumbs-media-tools-'));
    empty = path.join(dir, 'empty');
    fs.mkdirSync(empty);
  });
  afterAll(async () => {
    Logger.overrideLogger(['log', 'error', 'warn', 'debug', 'verbose', 'fatal']);
    await rm(dir, { recursive: true, force: true });
  });

  /** A folder for PATH holding ffmpeg and ffprobe links to the given binaries (a path, or 'broken' for a broken script). */
  async function pathDir(name: string, targets: { ffmpeg: string; ffprobe: string }): Promise<string> {
    const folder = path.join(dir, name);
    fs.mkdirSync(folder);
    for (const tool of ['ffmpeg', 'ffprobe'] as const) {
      const file = path.join(folder, tool);
      if (targets[tool] === 'broken') {
        await writeFile(file, '#!/bin/sh\necho "error while loading shared libraries: libavcodec.so.59" >&2\nexit 127\n');
        await chmod(file, 0o755);
      } else {
        await symlink(targets[tool], file);
      }
    }
    return folder;
  }

  it('takes FFMPEG_PATH / FFPROBE_PATH first, even with ffmpeg on PATH', async () => {
    const onPath = await pathDir('env-first', NPM);
    const tools = await MediaTools.resolve({ ffmpegPath: NPM.ffmpeg, ffprobePath: NPM.ffprobe, searchPath: onPath });
    expect(tools.describe()).toEqual({
      ffmpeg: { path: NPM.ffmpeg, source: 'env', version: expect.stringMatching(/\S/) },
      ffprobe: { path: NPM.ffprobe, source: 'env', version: expect.stringMatching(/\S/) },
      // The npm ffmpeg (a 2018 static build) has zscale, tonemap and libvpx too.
      decoders: {
        heic: 'libheif-js 1.23 (wasm)',
        hdrVideo: 'tone-mapped to SDR (zscale, tonemap)',
        videoAlpha: 'libvpx (VP8, VP9)',
        bmp: 'ffmpeg',
      },
    });
  });

  it('knows whether an ffmpeg takes -fps_mode (5.1 and later) or only -vsync (the npm build of 2018)', async () => {
    const npm = await readCapabilities(NPM.ffmpeg);
    expect(npm.fpsMode).toBe(false);
    const system = await MediaTools.resolve({ searchPath: process.env.PATH ?? '' });
    const [major, minor] = system.describe().ffmpeg.version.split('.').map(Number);
    if (system.describe().ffmpeg.source === 'system' && (major > 5 || (major === 5 && minor >= 1))) {
      expect(system.capabilities.fpsMode).toBe(true);
    }
  });

  it('says in health when an ffmpeg lacks tone mapping or the alpha decoders', () => {
    const bare = new MediaTools(
      { path: '/opt/ffmpeg', source: 'env', version: '7' },
      { path: '/opt/ffprobe', source: 'env', version: '7' },
      { toneMapping: false, alphaDecoders: { vp8: false, vp9: true } },
    );
    expect(bare.describe().decoders).toMatchObject({
      hdrVideo: 'fallback: plain conversion without tone mapping (this ffmpeg lacks zscale/tonemap)',
      videoAlpha: 'libvpx (VP9)',
    });
  });

  it('takes the first ffmpeg on PATH over the npm one', async () => {
    const onPath = await pathDir('system-first', NPM);
    const tools = await MediaTools.resolve({ searchPath: [empty, 'relative/ignored', onPath].join(path.delimiter) });
    expect(tools.ffmpeg).toMatchObject({ path: path.join(onPath, 'ffmpeg'), source: 'system' });
    expect(tools.ffprobe).toMatchObject({ path: path.join(onPath, 'ffprobe'), source: 'system' });
  });

  withSystem('reports the system binaries and their versions', async () => {
    const tools = await MediaTools.resolve({ searchPath: SYSTEM_DIR ?? '' });
    expect(tools.ffmpeg.source).toBe('system');
    expect(tools.ffmpeg.path).toBe(path.join(SYSTEM_DIR ?? '', 'ffmpeg'));
    expect(tools.ffmpeg.version).toMatch(/^(\d+\.\d+|N-\d+)/);
    expect(tools.ffprobe.version).toMatch(/^(\d+\.\d+|N-\d+)/);
  });

  it('falls back to the npm package binaries when nothing is on PATH', async () => {
    const tools = await MediaTools.resolve({ searchPath: empty });
    expect(tools.ffmpeg).toMatchObject({ path: NPM.ffmpeg, source: 'npm' });
    expect(tools.ffprobe).toMatchObject({ path: NPM.ffprobe, source: 'npm' });
    expect(tools.ffmpeg.version).toMatch(/\S/);
  });

  it('skips a system binary that does not run and uses the npm one', async () => {
    const broken = await pathDir('broken', { ffmpeg: 'broken', ffprobe: 'broken' });
    const tools = await MediaTools.resolve({ searchPath: broken });
    expect(tools.ffmpeg).toMatchObject({ path: NPM.ffmpeg, source: 'npm' });
    expect(tools.ffprobe).toMatchObject({ path: NPM.ffprobe, source: 'npm' });
  });

  it('refuses to start with a configured binary that does not run, naming the variable', async () => {
    const broken = await pathDir('broken-env', { ffmpeg: 'broken', ffprobe: 'broken' });
    const attempt = MediaTools.resolve({ ffmpegPath: path.join(broken, 'ffmpeg'), searchPath: empty });
    await expect(attempt).rejects.toBeInstanceOf(MediaToolsError);
    await expect(attempt).rejects.toThrow(
      /^FFMPEG_PATH points to ".*ffmpeg", which does not run as ffmpeg: "-version" failed \(error while loading shared libraries/,
    );
  });

  it('says what to do when there is no ffmpeg anywhere', async () => {
    const attempt = MediaTools.resolve({ searchPath: empty, npmPaths: { ffmpeg: undefined, ffprobe: NPM.ffprobe } });
    await expect(attempt).rejects.toThrow(
      /^No working ffmpeg was found \(none on PATH; .*\)\. Install ffmpeg on the PATH, set FFMPEG_PATH, or run npm install/,
    );
  });

  it('reads FFMPEG_PATH and FFPROBE_PATH through the config loader', async () => {
    const config = loadConfig(
      { NODE_ENV: 'test', JWT_SECRET: 'x'.repeat(32), DATA_DIR: dir, FFMPEG_PATH: NPM.ffmpeg, FFPROBE_PATH: NPM.ffprobe },
      dir,
    );
    const tools = await MediaTools.fromConfig(config);
    expect(tools.describe().ffmpeg).toMatchObject({ path: NPM.ffmpeg, source: 'env' });
    expect(JSON.parse(JSON.stringify(tools.describe()))).toEqual(tools.describe());
  });
});
