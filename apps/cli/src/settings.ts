import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/** What `thumbs login` keeps between runs. */
export interface StoredSettings {
  server: string;
  apiKey: string;
  /** The key's id, so that `thumbs logout` can revoke it. */
  apiKeyId?: string;
}

/** Where the settings live: $THUMBS_CONFIG_DIR, else $XDG_CONFIG_HOME/thumbs, else ~/.config/thumbs. */
export function settingsDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.THUMBS_CONFIG_DIR) return env.THUMBS_CONFIG_DIR;
  return path.join(env.XDG_CONFIG_HOME || path.join(os.homedir(), '.config'), 'thumbs');
}

export function readSettings(env: NodeJS.ProcessEnv = process.env): StoredSettings | null {
  try {
    const parsed = JSON.parse(fs.readFileSync(path.join(settingsDir(env), 'settings.json'), 'utf8')) as Partial<StoredSettings>;
    return typeof parsed.server === 'string' && typeof parsed.apiKey === 'string' ? (parsed as StoredSettings) : null;
  } catch {
    return null;
  }
}

/** Written readable by this user only (the file holds an API key). */
export function writeSettings(settings: StoredSettings, env: NodeJS.ProcessEnv = process.env): string {
  const dir = settingsDir(env);
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = path.join(dir, 'settings.json');
  fs.writeFileSync(file, `${JSON.stringify(settings, null, 2)}\n`, { mode: 0o600 });
  fs.chmodSync(file, 0o600);
  return file;
}

export function removeSettings(env: NodeJS.ProcessEnv = process.env): void {
  fs.rmSync(path.join(settingsDir(env), 'settings.json'), { force: true });
}

/** Where tus keeps the URLs of unfinished uploads, so that a later run resumes them. */
export function resumeFile(env: NodeJS.ProcessEnv = process.env): string {
  fs.mkdirSync(settingsDir(env), { recursive: true, mode: 0o700 });
  return path.join(settingsDir(env), 'uploads.json');
}
