import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import sharp from 'sharp';
import { ApiClient } from './support/client';
import { TestStack } from './support/stack';

const BIN = path.resolve(__dirname, '../apps/cli/bin/thumbs.js');
const PASSWORD = 'correct horse battery';

interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

/** The CLI as a script runs it: its own process, its settings in a folder of this test. */
function thumbs(args: string[], env: Record<string, string>): Promise<Ran> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      { env: { PATH: process.env.PATH ?? '', HOME: os.tmpdir(), ...env }, timeout: 120_000 },
      (error, stdout, stderr) => resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

jest.setTimeout(300_000);

/**
 * The command-line client (apps/cli) end to end: its own processes against the built api and a
 * worker on real Redis and SQLite: sign in with a password (an API key is made and kept), upload a
 * folder with --wait --out (multipart for small files, tus for large ones), list jobs, manage keys;
 * exit codes and --json for scripts.
 */
describe('thumbs CLI (its own processes, built api and worker)', () => {
  let stack: TestStack;
  let user: ApiClient;
  let dir: string;
  let env: Record<string, string>;

  beforeAll(async () => {
    stack = await TestStack.start({ workers: 1 });
    user = await ApiClient.register(stack.baseUrl);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'thumbs-cli-'));
    env = { THUMBS_CONFIG_DIR: path.join(dir, 'config'), THUMBS_SERVER: stack.baseUrl };
  }, 120_000);

  afterAll(async () => {
    await stack?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('says how to sign in, with exit code 3, before login; usage errors are exit code 2', async () => {
    const before = await thumbs(['jobs'], env);
    expect(before.code).toBe(3);
    expect(before.stderr).toMatch(/thumbs login/);
    expect((await thumbs(['frobnicate'], env)).code).toBe(2);
    expect((await thumbs(['upload', path.join(dir, 'missing.jpg')], { ...env, THUMBS_API_KEY: 'thumbs_x' })).code).toBe(2);
  });

  it('signs in with a password and keeps an API key only this user can read', async () => {
    const wrong = await thumbs(['login', '--email', user.user.email], { ...env, THUMBS_PASSWORD: 'not the password' });
    expect(wrong.code).toBe(3);
    const ran = await thumbs(['login', '--email', user.user.email, '--json'], { ...env, THUMBS_PASSWORD: PASSWORD });
    expect(ran.stderr).toBe('');
    expect(ran.code).toBe(0);
    const settingsFile = path.join(dir, 'config', 'settings.json');
    const settings = JSON.parse(fs.readFileSync(settingsFile, 'utf8')) as { apiKey: string; server: string };
    expect(settings.apiKey).toMatch(/^thumbs_/);
    expect(settings.server).toBe(stack.baseUrl);
    expect(fs.statSync(settingsFile).mode & 0o777).toBe(0o600);
    const listed = await thumbs(['keys', 'list', '--email', user.user.email, '--json'], { ...env, THUMBS_PASSWORD: PASSWORD });
    expect(listed.code).toBe(0);
    expect((JSON.parse(listed.stdout) as { name: string }[]).map((key) => key.name)).toEqual([expect.stringMatching(/^thumbs CLI on /)]);
  });

  it('uploads a folder (small files multipart, a large one over tus), waits, saves the thumbnails, and exits 1 for a refused file', async () => {
    const folder = path.join(dir, 'photos');
    fs.mkdirSync(path.join(folder, 'nested'), { recursive: true });
    const photo = (width: number, height: number, background: string) => sharp({ create: { width, height, channels: 3, background } });
    await photo(640, 480, '#c33').jpeg().toFile(path.join(folder, 'red.jpg'));
    await photo(300, 500, '#3c3')
      .png()
      .toFile(path.join(folder, 'nested', 'green.png'));
    // Noise so that it stays large: sent over tus (--resumable-from below its size).
    await sharp({
      create: { width: 1600, height: 1200, channels: 3, background: '#000', noise: { type: 'gaussian', mean: 128, sigma: 60 } },
    })
      .png()
      .toFile(path.join(folder, 'large.png'));
    fs.writeFileSync(path.join(folder, 'notes.txt'), 'not a picture');
    fs.writeFileSync(path.join(folder, '.hidden.jpg'), 'left out');
    const large = fs.statSync(path.join(folder, 'large.png')).size;
    const out = path.join(dir, 'thumbnails');

    const ran = await thumbs(['upload', folder, '--wait', '--out', out, '--json', '--resumable-from', String(large - 1)], env);
    expect(ran.code).toBe(1);
    const results = JSON.parse(ran.stdout) as {
      file: string;
      job?: { status: string; id: string; originalUrl: string };
      rejected?: { code: string };
      saved?: string;
    }[];
    const byName = Object.fromEntries(results.map((result) => [path.basename(result.file), result]));
    expect(Object.keys(byName).sort()).toEqual(['green.png', 'large.png', 'notes.txt', 'red.jpg']);
    expect(byName['notes.txt'].rejected?.code).toBe('unsupported_type');
    for (const name of ['green.png', 'large.png', 'red.jpg']) {
      expect(byName[name].job?.status).toBe('completed');
      expect(await sharp(byName[name].saved).metadata()).toMatchObject({ format: 'jpeg', width: 128, height: 128 });
    }
    expect(fs.readdirSync(out).sort()).toEqual(['green-thumb.jpg', 'large-thumb.jpg', 'red-thumb.jpg']);
    // The large file went over tus: the server kept its bytes exactly.
    const original = await fetch(new URL(byName['large.png'].job!.originalUrl, stack.baseUrl));
    expect(Buffer.from(await original.arrayBuffer()).equals(fs.readFileSync(path.join(folder, 'large.png')))).toBe(true);

    const listed = await thumbs(['jobs', '--status', 'completed', '--json'], env);
    expect(listed.code).toBe(0);
    expect((JSON.parse(listed.stdout) as { items: unknown[] }).items).toHaveLength(3);
    const text = await thumbs(['jobs'], env);
    expect(text.stdout).toMatch(/completed .* red\.jpg/);
  });

  it('stops working at once when its key is revoked', async () => {
    const settings = JSON.parse(fs.readFileSync(path.join(dir, 'config', 'settings.json'), 'utf8')) as { apiKeyId: string };
    const revoked = await thumbs(['keys', 'revoke', settings.apiKeyId, '--email', user.user.email], { ...env, THUMBS_PASSWORD: PASSWORD });
    expect(revoked.code).toBe(0);
    const after = await thumbs(['jobs'], env);
    expect(after.code).toBe(3);
    expect((await thumbs(['logout'], env)).code).toBe(0);
    expect(fs.existsSync(path.join(dir, 'config', 'settings.json'))).toBe(false);
  });
});
