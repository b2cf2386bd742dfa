import * as fs from 'node:fs';
import * as path from 'node:path';
import { Logger } from '@nestjs/common';
import type { AppConfig } from '@app/core';
import { HeicDecoder } from '../image/heic/heic-decoder';
import { runTool } from './tool-process';

export type MediaToolName = 'ffmpeg' | 'ffprobe';

/** Where a binary came from: FFMPEG_PATH/FFPROBE_PATH, the system's PATH, or the npm installer package. */
export type MediaToolSource = 'env' | 'system' | 'npm';

export interface MediaToolInfo {
  path: string;
  source: MediaToolSource;
  /** As the binary reports it (`ffmpeg -version`), e.g. "5.1.6-0+deb12u1". */
  version: string;
}

/** What the ffmpeg build can do beyond decoding, found once at start-up. */
export interface MediaCapabilities {
  /** zscale and tonemap filters (Debian's ffmpeg): HDR (PQ, HLG) frames are tone-mapped to SDR BT.709. */
  toneMapping: boolean;
  /** libvpx's VP8/VP9 decoders, the only ones that read a WebM's alpha channel. */
  alphaDecoders: { vp8: boolean; vp9: boolean };
  /** `-fps_mode` (ffmpeg 5.1 and later); older builds (the npm one) only know `-vsync`. */
  fpsMode?: boolean;
}

/** The decoders this worker has, as health reports them. */
export interface DecodersInfo {
  /** HEIC/HEIF (HEVC): libheif compiled to wasm, from npm. */
  heic: string;
  /** HDR video: tone mapping, or the plain conversion that leaves HDR frames washed out. */
  hdrVideo: string;
  /** VP8/VP9 WebM with an alpha channel. */
  videoAlpha: string;
  /** BMP: ffmpeg's bmp decoder (sharp's prebuilt libvips has none). */
  bmp: string;
}

export interface MediaToolsInfo {
  ffmpeg: MediaToolInfo;
  ffprobe: MediaToolInfo;
  decoders?: DecodersInfo;
}

/** Assumed before the build was asked (tests that build MediaTools by hand). */
const UNKNOWN_CAPABILITIES: MediaCapabilities = { toneMapping: false, alphaDecoders: { vp8: false, vp9: false } };

export interface MediaToolsOptions {
  /** FFMPEG_PATH: used as is, and an error when it does not run. */
  ffmpegPath?: string;
  /** FFPROBE_PATH: used as is, and an error when it does not run. */
  ffprobePath?: string;
  /** The executable search list (PATH), `path.delimiter`-separated. */
  searchPath: string;
  /** Binaries of the npm installer packages; found through the packages when left out. */
  npmPaths?: Partial<Record<MediaToolName, string | undefined>>;
}

/** No working binary was found, or a configured one does not run. Thrown at boot. */
export class MediaToolsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MediaToolsError';
  }
}

const ENV_VARIABLE: Record<MediaToolName, string> = { ffmpeg: 'FFMPEG_PATH', ffprobe: 'FFPROBE_PATH' };
const NPM_PACKAGE: Record<MediaToolName, string> = { ffmpeg: '@ffmpeg-installer/ffmpeg', ffprobe: '@ffprobe-installer/ffprobe' };
const VERSION_TIMEOUT_MS = 15_000;
const logger = new Logger('MediaTools');

/**
 * The ffmpeg and ffprobe binaries this process uses, resolved once at start-up: FFMPEG_PATH /
 * FFPROBE_PATH when set, else the system's (first on PATH), else the ones the npm installer
 * packages ship, so `npm install` alone gives a working video pipeline. Each candidate must answer
 * `-version` before it is chosen; a broken system binary is skipped with a warning, a broken
 * configured one stops the boot with a message naming its variable.
 */
export class MediaTools {
  constructor(
    readonly ffmpeg: MediaToolInfo,
    readonly ffprobe: MediaToolInfo,
    readonly capabilities: MediaCapabilities = UNKNOWN_CAPABILITIES,
    /** Whether the HEIC wasm decoder loaded (checked at start-up). */
    readonly heic: boolean = true,
  ) {}

  static async resolve(options: MediaToolsOptions): Promise<MediaTools> {
    const [ffmpeg, ffprobe] = await Promise.all([
      resolveTool('ffmpeg', options.ffmpegPath, options),
      resolveTool('ffprobe', options.ffprobePath, options),
    ]);
    const capabilities = await readCapabilities(ffmpeg.path);
    const heic = HeicDecoder.available();
    logger.log(
      `ffmpeg ${ffmpeg.version} (${ffmpeg.source}: ${ffmpeg.path}), ffprobe ${ffprobe.version} (${ffprobe.source}: ${ffprobe.path}); ` +
        `HDR ${capabilities.toneMapping ? 'tone-mapped (zscale, tonemap)' : 'NOT tone-mapped (no zscale/tonemap in this ffmpeg)'}; ` +
        `HEIC ${heic ? 'libheif-js (wasm)' : 'unavailable'}`,
    );
    if (!capabilities.toneMapping)
      logger.warn(`${ffmpeg.path} has no zscale/tonemap filters: HDR video frames are converted without tone mapping.`);
    return new MediaTools(ffmpeg, ffprobe, capabilities, heic);
  }

  /** From the loaded config (FFMPEG_PATH, FFPROBE_PATH, and PATH to search). */
  static fromConfig(config: AppConfig): Promise<MediaTools> {
    return MediaTools.resolve({
      ffmpegPath: config.thumbnails.ffmpegPath,
      ffprobePath: config.thumbnails.ffprobePath,
      searchPath: config.thumbnails.searchPath,
    });
  }

  /** For health reports and start-up logs: which binaries, from where, which versions. */
  describe(): MediaToolsInfo {
    const { toneMapping, alphaDecoders } = this.capabilities;
    const alpha = [alphaDecoders.vp8 && 'VP8', alphaDecoders.vp9 && 'VP9'].filter(Boolean).join(', ');
    return {
      ffmpeg: { ...this.ffmpeg },
      ffprobe: { ...this.ffprobe },
      decoders: {
        heic: this.heic ? `libheif-js ${HeicDecoder.version} (wasm)` : 'unavailable',
        hdrVideo: toneMapping
          ? 'tone-mapped to SDR (zscale, tonemap)'
          : 'fallback: plain conversion without tone mapping (this ffmpeg lacks zscale/tonemap)',
        videoAlpha: alpha ? `libvpx (${alpha})` : 'unavailable: transparent areas of VP8/VP9 videos come out black',
        bmp: 'ffmpeg',
      },
    };
  }
}

/** Which of the filters and decoders that matter here the ffmpeg build has. */
export async function readCapabilities(ffmpegPath: string): Promise<MediaCapabilities> {
  const read = (args: string[]) =>
    runTool(ffmpegPath, ['-hide_banner', ...args], {
      signal: AbortSignal.timeout(VERSION_TIMEOUT_MS),
      maxStdoutBytes: 1024 * 1024,
    }).catch(() => undefined);
  const list = async (what: '-filters' | '-decoders'): Promise<Set<string>> => {
    const result = await read([what]);
    const names = new Set<string>();
    for (const line of result?.stdout.toString('utf8').split('\n') ?? []) {
      const match = /^\s*[A-Z.|]{2,6}\s+(\S+)\s/.exec(line);
      if (match) names.add(match[1]);
    }
    return names;
  };
  const [filters, decoders, options] = await Promise.all([list('-filters'), list('-decoders'), read(['-h', 'long'])]);
  return {
    toneMapping: filters.has('zscale') && filters.has('tonemap'),
    alphaDecoders: { vp8: decoders.has('libvpx'), vp9: decoders.has('libvpx-vp9') },
    fpsMode: /^-fps_mode\s/m.test(options?.stdout.toString('utf8') ?? ''),
  };
}

async function resolveTool(name: MediaToolName, configured: string | undefined, options: MediaToolsOptions): Promise<MediaToolInfo> {
  const variable = ENV_VARIABLE[name];
  if (configured) {
    try {
      return { path: configured, source: 'env', version: await readVersion(name, configured) };
    } catch (error) {
      throw new MediaToolsError(`${variable} points to "${configured}", which does not run as ${name}: ${(error as Error).message}`);
    }
  }

  const problems: string[] = [];
  const system = findOnPath(name, options.searchPath);
  if (system) {
    try {
      return { path: system, source: 'system', version: await readVersion(name, system) };
    } catch (error) {
      problems.push(`${system} (on PATH): ${(error as Error).message}`);
      logger.warn(`Skipping ${system}: ${(error as Error).message}; trying the npm package's ${name}.`);
    }
  }

  const npm = options.npmPaths && name in options.npmPaths ? options.npmPaths[name] : npmBinary(name);
  if (npm) {
    try {
      return { path: npm, source: 'npm', version: await readVersion(name, npm) };
    } catch (error) {
      problems.push(`${npm} (${NPM_PACKAGE[name]}): ${(error as Error).message}`);
    }
  } else {
    problems.push(`${NPM_PACKAGE[name]} has no binary for this platform (${process.platform}-${process.arch})`);
  }

  throw new MediaToolsError(
    `No working ${name} was found (${system ? '' : 'none on PATH; '}${problems.join('; ')}). ` +
      `Install ${name} on the PATH, set ${variable}, or run npm install so ${NPM_PACKAGE[name]} provides one.`,
  );
}

/** Runs `<tool> -version` and returns the version it reports; rejects when it does not run. */
async function readVersion(name: MediaToolName, executable: string): Promise<string> {
  const result = await runTool(executable, ['-hide_banner', '-version'], {
    signal: AbortSignal.timeout(VERSION_TIMEOUT_MS),
    maxStdoutBytes: 256 * 1024,
  });
  const text = result.stdout.toString('utf8');
  if (result.exitCode !== 0) {
    const detail = (result.stderr || text).trim().split('\n')[0] || `exit code ${result.exitCode ?? result.exitSignal}`;
    throw new Error(`"-version" failed (${detail})`);
  }
  const match = new RegExp(`^${name} version (\\S+)`, 'm').exec(text);
  if (!match) throw new Error(`"-version" did not report an ${name} version`);
  return match[1];
}

/** The first executable file called `name` in the search list, like `which`. */
function findOnPath(name: string, searchPath: string): string | undefined {
  for (const dir of searchPath.split(path.delimiter)) {
    if (!dir || !path.isAbsolute(dir)) continue;
    const candidate = path.join(dir, name);
    try {
      if (!fs.statSync(candidate).isFile()) continue;
      fs.accessSync(candidate, fs.constants.X_OK);
      return candidate;
    } catch {
      // Not there, or not executable: keep looking.
    }
  }
  return undefined;
}

/** The binary shipped by the npm installer package, when it supports this platform and is installed. */
function npmBinary(name: MediaToolName): string | undefined {
  try {
    // Required lazily: the installer packages throw (a string) at load time on unsupported platforms.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const installer = (name === 'ffmpeg' ? require('@ffmpeg-installer/ffmpeg') : require('@ffprobe-installer/ffprobe')) as {
      path?: unknown;
    };
    return typeof installer.path === 'string' ? installer.path : undefined;
  } catch {
    return undefined;
  }
}
