import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/** The ffmpeg the tests generate media with: FFMPEG_PATH, the system's, or the npm package's. */
export function ffmpegBinary(): string {
  if (process.env.FFMPEG_PATH) return process.env.FFMPEG_PATH;
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const candidate = path.join(dir, 'ffmpeg');
    if (fs.existsSync(candidate)) return candidate;
  }
  // Loaded only when needed: the installer package throws at load time on platforms it has no binary for.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (require('@ffmpeg-installer/ffmpeg') as { path: string }).path;
}

export interface SmallVideo {
  name: string;
  type: string;
  data: Buffer;
}

/**
 * A few short, tiny videos in every accepted container (made once per call, in a temp folder);
 * with `names`, only those (e.g. `['clip.mp4']`), so a test needing one does not encode them all.
 */
export function smallVideos(names?: readonly string[]): SmallVideo[] {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'thumbs-videos-'));
  const source = ['-f', 'lavfi', '-i', 'testsrc2=size=96x64:rate=10:duration=1'];
  const audio = ['-f', 'lavfi', '-i', 'sine=frequency=440:duration=1'];
  const recipes: [string, string, string[]][] = [
    ['clip.mp4', 'video/mp4', [...source, '-c:v', 'libx264', '-pix_fmt', 'yuv420p']],
    ['clip-audio.mp4', 'video/mp4', [...source, ...audio, '-c:v', 'libx264', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-shortest']],
    ['clip.mov', 'video/quicktime', [...source, '-c:v', 'libx264', '-pix_fmt', 'yuv420p', '-f', 'mov']],
    ['clip.avi', 'video/x-msvideo', [...source, '-c:v', 'mpeg4']],
    ['clip.webm', 'video/webm', [...source, '-c:v', 'libvpx', '-b:v', '200k']],
  ];
  const ffmpeg = ffmpegBinary();
  try {
    return recipes
      .filter(([name]) => !names || names.includes(name))
      .map(([name, type, args]) => {
        const file = path.join(dir, name);
        execFileSync(ffmpeg, ['-hide_banner', '-loglevel', 'error', '-y', ...args, file]);
        return { name, type, data: fs.readFileSync(file) };
      });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
