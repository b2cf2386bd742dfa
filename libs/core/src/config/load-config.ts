import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { THUMBNAIL_POSITIONS } from '@app/shared';
import { AppConfig, DatabaseConfig, LogLevel, StorageConfig } from './app-config';
import { parseBoolean, parseDurationSeconds, parseInteger, parseList } from './parse';

/** The longest delay Node's timers take (2³¹ − 1 ms, 24.8 days); a longer one fires after 1 ms. */
const MAX_TIMER_MS = 2_147_483_647;

export type Env = Readonly<Record<string, string | undefined>>;

/** Thrown at boot when the environment is wrong; the message names every bad variable. */
export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
const JWT_SECRET_FILE = 'jwt-secret';
const MIN_SECRET_LENGTH = 32;

/**
 * Reads, validates and types every variable of the contract's table (plus a few operational
 * ones documented in the README). Every problem is collected, then reported together.
 */
export function loadConfig(env: Env = process.env, cwd: string = process.cwd()): AppConfig {
  const problems: string[] = [];

  function read<T>(name: string, fallback: string, parse: (raw: string) => T): T {
    const raw = env[name];
    const value = raw === undefined || raw === '' ? fallback : raw;
    try {
      return parse(value);
    } catch (error) {
      problems.push(`${name} ${(error as Error).message}`);
      return undefined as T;
    }
  }

  const nodeEnv = read('NODE_ENV', 'development', (raw) => {
    if (raw === 'development' || raw === 'production' || raw === 'test') return raw;
    throw new Error(`must be development, production or test, got "${raw}"`);
  });
  const dataDir = path.resolve(cwd, env.DATA_DIR || './data');

  const config: AppConfig = {
    env: nodeEnv,
    port: read('PORT', '3000', (raw) => parseInteger(raw, { min: 0, max: 65535 })),
    logLevel: read('LOG_LEVEL', nodeEnv === 'test' ? 'warn' : 'info', (raw) => {
      const level = raw.toLowerCase() as LogLevel;
      if (!LOG_LEVELS.includes(level)) throw new Error(`must be one of ${LOG_LEVELS.join(', ')}, got "${raw}"`);
      return level;
    }),
    dataDir,
    database: read('DATABASE_URL', 'sqlite:./data/thumbs.db', (raw) => parseDatabaseUrl(raw, cwd)),
    redis: {
      url: read('REDIS_URL', 'redis://127.0.0.1:6379', (raw) => {
        if (!/^rediss?:\/\//.test(raw)) throw new Error(`must start with redis:// or rediss://, got "${raw}"`);
        new URL(raw);
        return raw;
      }),
      prefix: read('QUEUE_PREFIX', 'thumbs', (raw) => {
        if (!/^[A-Za-z0-9_.-]{1,64}$/.test(raw)) throw new Error(`must be 1-64 letters, digits, "_", "." or "-", got "${raw}"`);
        return raw;
      }),
    },
    storage: read('STORAGE_URL', 'file:./data/files', (raw) => parseStorageUrl(raw, cwd, env)),
    auth: {
      ...resolveJwtSecret(env, nodeEnv, dataDir, problems),
      jwtExpiresInSeconds: read('JWT_EXPIRES_IN', '1h', parseDurationSeconds),
      refreshTtlSeconds: read('REFRESH_TTL', '30d', parseDurationSeconds),
      signedUrlTtlSeconds: read('SIGNED_URL_TTL', '1h', parseDurationSeconds),
      bcryptCost: read('BCRYPT_COST', '12', (raw) => parseInteger(raw, { min: 10, max: 15 })),
    },
    upload: {
      maxFileBytes: read('MAX_UPLOAD_BYTES', '104857600', (raw) => parseInteger(raw, { min: 1 })),
      maxFilesPerRequest: read('MAX_FILES_PER_UPLOAD', '20', (raw) => parseInteger(raw, { min: 1, max: 1000 })),
      userQuotaBytes: read('USER_QUOTA_BYTES', '0', (raw) => parseInteger(raw, { min: 0 })),
      tusExpirySeconds: read('TUS_EXPIRY', '24h', parseDurationSeconds),
      idleTimeoutMs: read('UPLOAD_IDLE_TIMEOUT_MS', '30000', (raw) => parseInteger(raw, { min: 100, max: 3_600_000 })),
      clamav: read('CLAMAV_URL', '', (raw) => {
        if (raw.trim() === '') return null;
        const url = new URL(raw.trim());
        if (url.protocol !== 'tcp:' || !url.hostname) throw new Error(`must be tcp://host:port (clamd), got "${raw}"`);
        return { host: url.hostname.replace(/^\[|\]$/g, ''), port: Number(url.port || 3310) };
      }),
    },
    thumbnails: {
      size: read('THUMBNAIL_SIZE', '128', (raw) => parseInteger(raw, { min: 16, max: 2048 })),
      previewSize: read('PREVIEW_SIZE', '1440', (raw) => {
        const value = parseInteger(raw, { min: 0, max: 8192 });
        if (value > 0 && value < 64) throw new Error(`must be 0 (no previews) or at least 64, got ${value}`);
        return value;
      }),
      position: read('THUMBNAIL_POSITION', 'centre', (raw) => {
        const value = raw.trim().toLowerCase() === 'center' ? 'centre' : raw.trim().toLowerCase();
        const position = THUMBNAIL_POSITIONS.find((candidate) => candidate === value);
        if (!position) throw new Error(`must be one of ${THUMBNAIL_POSITIONS.join(', ')}, got "${raw}"`);
        return position;
      }),
      maxInputPixels: read('MAX_INPUT_PIXELS', '100000000', (raw) => parseInteger(raw, { min: 1 })),
      maxVideoPixels: read('MAX_VIDEO_PIXELS', '40000000', (raw) => parseInteger(raw, { min: 1 })),
      ffmpegPath: read('FFMPEG_PATH', '', (raw) => optionalExecutable(raw, cwd)),
      ffprobePath: read('FFPROBE_PATH', '', (raw) => optionalExecutable(raw, cwd)),
      searchPath: env.PATH ?? '',
    },
    worker: {
      concurrency: read('WORKER_CONCURRENCY', String(os.availableParallelism()), (raw) => parseInteger(raw, { min: 1, max: 256 })),
      jobTimeoutMs: read('JOB_TIMEOUT_MS', '300000', (raw) => parseInteger(raw, { min: 100, max: MAX_TIMER_MS })),
      lockMs: read('JOB_LOCK_MS', '30000', (raw) => parseInteger(raw, { min: 1000 })),
      sweepIntervalMs: read('QUEUE_SWEEP_MS', '10000', (raw) => parseInteger(raw, { min: 100 })),
      shutdownGraceMs: read('SHUTDOWN_GRACE_MS', '8000', (raw) => parseInteger(raw, { min: 0 })),
      metricsPort: read('WORKER_METRICS_PORT', '0', (raw) => parseInteger(raw, { min: 0, max: 65535 })),
      nice: read('WORKER_NICE', '10', (raw) => parseInteger(raw, { min: 0, max: 19 })),
    },
    http: {
      corsOrigins: read('CORS_ORIGINS', '', (raw) =>
        parseList(raw).map((origin) => {
          const url = new URL(origin);
          if (url.origin !== origin.replace(/\/$/, '')) throw new Error(`must list origins like https://app.example.com, got "${origin}"`);
          return url.origin;
        }),
      ),
      metricsToken: read('METRICS_TOKEN', '', (raw) => raw || undefined),
      metricsPublic: read('METRICS_PUBLIC', 'false', parseBoolean),
      rateLimits: {
        authPerMinute: read('RATE_LIMIT_AUTH', '30', (raw) => parseInteger(raw, { min: 1 })),
        uploadsPerMinute: read('RATE_LIMIT_UPLOADS', '120', (raw) => parseInteger(raw, { min: 1 })),
        archivesPerMinute: read('RATE_LIMIT_ARCHIVES', '60', (raw) => parseInteger(raw, { min: 1 })),
        apiKeyPerMinute: read('RATE_LIMIT_API_KEY', '600', (raw) => parseInteger(raw, { min: 1 })),
      },
      trustProxy: read('TRUST_PROXY', 'false', (raw) => {
        if (/^\d+$/.test(raw)) return Number(raw);
        if (/^(true|false)$/i.test(raw)) return raw.toLowerCase() === 'true';
        return raw; // e.g. "loopback, 10.0.0.0/8"
      }),
      webRoot: read('WEB_ROOT', 'dist/apps/web/browser', (raw) => path.resolve(cwd, raw)),
    },
    webhooks: {
      allowPrivate: read('WEBHOOK_ALLOW_PRIVATE', 'false', parseBoolean),
      timeoutMs: read('WEBHOOK_TIMEOUT_MS', '10000', (raw) => parseInteger(raw, { min: 100, max: 120_000 })),
      // 14 retries, 5274 ms × 1, 2, 4 … 8192 apart: the 15th and last attempt comes 24 h after the first.
      retryBaseMs: read('WEBHOOK_RETRY_BASE_MS', '5274', (raw) => parseInteger(raw, { min: 10 })),
      maxAttempts: read('WEBHOOK_MAX_ATTEMPTS', '15', (raw) => parseInteger(raw, { min: 1, max: 30 })),
    },
    library: {
      trashTtlSeconds: read('TRASH_TTL', '7d', parseDurationSeconds),
      orphanSweepSeconds: read('ORPHAN_SWEEP_INTERVAL', '6h', (raw) => (raw.trim() === '0' ? 0 : parseDurationSeconds(raw))),
      // At least an hour: an upload request stores its first files before it records any job.
      orphanMinAgeSeconds: read('ORPHAN_MIN_AGE', '24h', (raw) => {
        const seconds = parseDurationSeconds(raw);
        if (seconds < 3600) throw new Error(`must be at least 1h (files of an upload still running have no job yet), got "${raw}"`);
        return seconds;
      }),
    },
  };

  // /metrics lists users' activity and the service's insides: in production only by choice.
  if (nodeEnv === 'production' && !config.http.metricsToken && config.http.metricsPublic === false) {
    problems.push(
      "METRICS_TOKEN is required when NODE_ENV=production: /metrics (the api's and each worker's) then asks for " +
        '"Authorization: Bearer <METRICS_TOKEN>". Set METRICS_PUBLIC=true instead to serve it to anyone on purpose.',
    );
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return deepFreeze(config);
}

function parseDatabaseUrl(raw: string, cwd: string): DatabaseConfig {
  if (raw.startsWith('sqlite:')) {
    const file = raw.slice('sqlite:'.length).replace(/^\/\//, '');
    if (file === '') throw new Error('needs a file after "sqlite:", e.g. sqlite:./data/thumbs.db');
    return { kind: 'sqlite', url: raw, path: file === ':memory:' ? file : path.resolve(cwd, file) };
  }
  if (raw.startsWith('mongodb://') || raw.startsWith('mongodb+srv://')) {
    new URL(raw);
    return { kind: 'mongo', url: raw };
  }
  throw new Error(`must be sqlite:<path> or mongodb://…, got "${redact(raw)}"`);
}

function parseStorageUrl(raw: string, cwd: string, env: Env): StorageConfig {
  if (raw.startsWith('file:')) {
    const dir = raw.startsWith('file://') ? new URL(raw).pathname : raw.slice('file:'.length);
    if (dir === '') throw new Error('needs a folder after "file:", e.g. file:./data/files');
    return { driver: 'file', url: raw, root: path.resolve(cwd, decodeURIComponent(dir)) };
  }
  if (raw.startsWith('s3://')) {
    const url = new URL(raw);
    const bucket = url.hostname;
    if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) throw new Error(`names an invalid bucket "${bucket}"`);
    const endpoint = url.searchParams.get('endpoint') ?? undefined;
    if (endpoint !== undefined) new URL(endpoint);
    return {
      driver: 's3',
      url: raw,
      bucket,
      endpoint,
      region: url.searchParams.get('region') ?? 'us-east-1',
      forcePathStyle: parseBoolean(url.searchParams.get('forcePathStyle') ?? 'false'),
      accessKeyId: decodeURIComponent(url.username) || env.AWS_ACCESS_KEY_ID || undefined,
      secretAccessKey: decodeURIComponent(url.password) || env.AWS_SECRET_ACCESS_KEY || undefined,
      sessionToken: url.password ? undefined : env.AWS_SESSION_TOKEN || undefined,
    };
  }
  throw new Error(`must be file:<dir> or s3://<bucket>?endpoint=…, got "${redact(raw)}"`);
}

function optionalExecutable(raw: string, cwd: string): string | undefined {
  if (raw === '') return undefined;
  const file = path.resolve(cwd, raw);
  try {
    fs.accessSync(file, fs.constants.X_OK);
  } catch {
    throw new Error(`points to "${file}", which is not an executable file`);
  }
  return file;
}

/**
 * JWT_SECRET from the environment; required in production. Elsewhere a secret is generated once
 * and kept (mode 600) in the data folder so the api and worker processes and restarts share it.
 */
function resolveJwtSecret(
  env: Env,
  nodeEnv: string,
  dataDir: string,
  problems: string[],
): { jwtSecret: string; jwtSecretSource: 'env' | 'generated' | 'data-dir' } {
  const fromEnv = env.JWT_SECRET;
  if (fromEnv) {
    if (fromEnv.length < MIN_SECRET_LENGTH) problems.push(`JWT_SECRET must be at least ${MIN_SECRET_LENGTH} characters long`);
    return { jwtSecret: fromEnv, jwtSecretSource: 'env' };
  }
  if (nodeEnv === 'production') {
    problems.push('JWT_SECRET is required when NODE_ENV=production (at least 32 random characters)');
    return { jwtSecret: '', jwtSecretSource: 'env' };
  }
  const file = path.join(dataDir, JWT_SECRET_FILE);
  try {
    return { jwtSecret: readSecret(file), jwtSecretSource: 'data-dir' };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
      problems.push(`JWT_SECRET is not set and ${file} cannot be read: ${(error as Error).message}`);
      return { jwtSecret: '', jwtSecretSource: 'data-dir' };
    }
  }
  try {
    fs.mkdirSync(dataDir, { recursive: true });
    // Write then link: link fails if another process won the race, and nobody reads a half-written file.
    const temp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`;
    fs.writeFileSync(temp, randomBytes(48).toString('base64url'), { mode: 0o600 });
    try {
      fs.linkSync(temp, file);
      return { jwtSecret: readSecret(file), jwtSecretSource: 'generated' };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      return { jwtSecret: readSecret(file), jwtSecretSource: 'data-dir' };
    } finally {
      fs.rmSync(temp, { force: true });
    }
  } catch (error) {
    problems.push(`JWT_SECRET is not set and no secret could be kept in ${dataDir}: ${(error as Error).message}`);
    return { jwtSecret: '', jwtSecretSource: 'generated' };
  }
}

function readSecret(file: string): string {
  const secret = fs.readFileSync(file, 'utf8').trim();
  if (secret.length < MIN_SECRET_LENGTH) throw new Error(`${file} holds a secret shorter than ${MIN_SECRET_LENGTH} characters`);
  return secret;
}

/** Hides credentials in URLs quoted in error messages. */
export function redact(url: string): string {
  return url.replace(/\/\/([^:/@]+):([^@/]+)@/, '//$1:***@');
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    Object.values(value).forEach(deepFreeze);
    Object.freeze(value);
  }
  return value;
}
