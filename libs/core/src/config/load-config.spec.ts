import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ConfigError, loadConfig } from './load-config';

describe('loadConfig', () => {
  let dir: string;

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'thumbs-config-'));
  });

  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('has the contract’s defaults for a single machine', () => {
    const config = loadConfig({}, dir);
    expect(config.port).toBe(3000);
    expect(config.database).toEqual({ kind: 'sqlite', url: 'sqlite:./data/thumbs.db', path: path.join(dir, 'data/thumbs.db') });
    expect(config.redis.url).toBe('redis://127.0.0.1:6379');
    expect(config.storage).toEqual({ driver: 'file', url: 'file:./data/files', root: path.join(dir, 'data/files') });
    expect(config.auth.jwtExpiresInSeconds).toBe(3600);
    expect(config.upload).toEqual({
      maxFileBytes: 104857600,
      maxFilesPerRequest: 20,
      userQuotaBytes: 0,
      tusExpirySeconds: 86400,
      idleTimeoutMs: 30000,
      clamav: null,
    });
    expect(loadConfig({ CLAMAV_URL: 'tcp://clamd:3310' }, dir).upload.clamav).toEqual({ host: 'clamd', port: 3310 });
    expect(config.thumbnails.size).toBe(128);
    expect(config.thumbnails.previewSize).toBe(1440);
    expect(config.thumbnails.position).toBe('centre');
    expect(config.worker.concurrency).toBe(os.availableParallelism());
    expect(config.worker.jobTimeoutMs).toBe(300000);
    expect(config.worker.nice).toBe(10);
    expect(config.library).toEqual({ trashTtlSeconds: 7 * 86400, orphanSweepSeconds: 6 * 3600, orphanMinAgeSeconds: 86400 });
    expect(loadConfig({ ORPHAN_SWEEP_INTERVAL: '0', ORPHAN_MIN_AGE: '90m' }, dir).library).toMatchObject({
      orphanSweepSeconds: 0,
      orphanMinAgeSeconds: 5400,
    });
    expect(config.http.rateLimits).toEqual({ authPerMinute: 30, uploadsPerMinute: 120, archivesPerMinute: 60, apiKeyPerMinute: 600 });
    expect(Object.isFrozen(config.upload)).toBe(true);
  });

  it('generates a JWT secret once, keeps it in the data folder (mode 600) and reuses it', () => {
    const first = loadConfig({}, dir);
    const second = loadConfig({}, dir);
    expect(first.auth.jwtSecret.length).toBeGreaterThanOrEqual(32);
    expect(second.auth.jwtSecret).toBe(first.auth.jwtSecret);
    expect(first.auth.jwtSecretSource).toBe('generated');
    expect(second.auth.jwtSecretSource).toBe('data-dir');
    expect(fs.statSync(path.join(dir, 'data', 'jwt-secret')).mode & 0o777).toBe(0o600);
  });

  it('requires JWT_SECRET in production and never echoes it', () => {
    expect(() => loadConfig({ NODE_ENV: 'production' }, dir)).toThrow(/JWT_SECRET is required when NODE_ENV=production/);
    expect(() => loadConfig({ NODE_ENV: 'production', JWT_SECRET: 'short-secret' }, dir)).toThrow(/JWT_SECRET must be at least 32/);
    try {
      loadConfig({ NODE_ENV: 'production', JWT_SECRET: 'short-secret' }, dir);
    } catch (error) {
      expect((error as Error).message).not.toContain('short-secret');
    }
    const config = loadConfig({ NODE_ENV: 'production', JWT_SECRET: 'x'.repeat(40), METRICS_TOKEN: 'm' }, dir);
    expect(config.auth.jwtSecretSource).toBe('env');
    expect(fs.existsSync(path.join(dir, 'data', 'jwt-secret'))).toBe(false);
  });

  it('requires METRICS_TOKEN in production unless METRICS_PUBLIC=true says /metrics is public on purpose', () => {
    const production = { NODE_ENV: 'production', JWT_SECRET: 'x'.repeat(40) };
    expect(() => loadConfig(production, dir)).toThrow(/METRICS_TOKEN is required when NODE_ENV=production.*METRICS_PUBLIC=true/s);
    expect(loadConfig({ ...production, METRICS_TOKEN: 'scrape-me' }, dir).http).toMatchObject({
      metricsToken: 'scrape-me',
      metricsPublic: false,
    });
    expect(loadConfig({ ...production, METRICS_PUBLIC: 'true' }, dir).http).toMatchObject({ metricsToken: undefined, metricsPublic: true });
    expect(() => loadConfig({ ...production, METRICS_PUBLIC: 'yes please' }, dir)).toThrow(/METRICS_PUBLIC/);
    expect(loadConfig({}, dir).http.metricsPublic).toBe(false);
  });

  it.each([
    ['PORT', 'http'],
    ['PORT', '70000'],
    ['MAX_UPLOAD_BYTES', '-1'],
    ['MAX_UPLOAD_BYTES', '10MB'],
    ['MAX_FILES_PER_UPLOAD', '0'],
    ['UPLOAD_IDLE_TIMEOUT_MS', '0'],
    ['UPLOAD_IDLE_TIMEOUT_MS', '30s'],
    ['WORKER_NICE', '20'],
    ['ORPHAN_SWEEP_INTERVAL', 'often'],
    ['ORPHAN_MIN_AGE', '0'],
    ['ORPHAN_MIN_AGE', '30m'],
    ['WORKER_NICE', '-5'],
    ['CLAMAV_URL', 'http://clamd:3310'],
    ['THUMBNAIL_SIZE', '8'],
    ['PREVIEW_SIZE', '32'],
    ['PREVIEW_SIZE', '-1'],
    ['THUMBNAIL_POSITION', 'top'],
    ['WORKER_CONCURRENCY', 'many'],
    ['JOB_TIMEOUT_MS', '1.5'],
    ['JOB_TIMEOUT_MS', '2147483648'],
    ['JWT_EXPIRES_IN', 'one hour'],
    ['DATABASE_URL', 'postgres://localhost/thumbs'],
    ['REDIS_URL', 'localhost:6379'],
    ['STORAGE_URL', 'ftp://files'],
    ['STORAGE_URL', 's3://Bad_Bucket'],
    ['LOG_LEVEL', 'loud'],
    ['NODE_ENV', 'staging'],
    ['FFMPEG_PATH', '/nonexistent/ffmpeg'],
  ])('fails at boot naming %s when it is %p', (name, value) => {
    expect(() => loadConfig({ [name]: value }, dir)).toThrow(ConfigError);
    expect(() => loadConfig({ [name]: value }, dir)).toThrow(new RegExp(`\\b${name}\\b`));
  });

  it('reads PREVIEW_SIZE (0 turns previews off) and THUMBNAIL_POSITION (either spelling of centre)', () => {
    expect(loadConfig({ PREVIEW_SIZE: '0' }, dir).thumbnails.previewSize).toBe(0);
    expect(loadConfig({ PREVIEW_SIZE: '2048', THUMBNAIL_POSITION: 'Attention' }, dir).thumbnails).toMatchObject({
      previewSize: 2048,
      position: 'attention',
    });
    expect(loadConfig({ THUMBNAIL_POSITION: 'center' }, dir).thumbnails.position).toBe('centre');
    expect(loadConfig({ THUMBNAIL_POSITION: 'entropy' }, dir).thumbnails.position).toBe('entropy');
  });

  it('refuses private webhook targets by default; retries span 24 h (WEBHOOK_*)', () => {
    const { webhooks } = loadConfig({}, dir);
    expect(webhooks).toEqual({ allowPrivate: false, timeoutMs: 10000, retryBaseMs: 5274, maxAttempts: 15 });
    // The retries are retryBaseMs × 2^(n-1) apart: the last attempt comes 24 h (± 0.1 %) after the first.
    const span = webhooks.retryBaseMs * (2 ** (webhooks.maxAttempts - 1) - 1);
    expect(Math.abs(span - 24 * 3600 * 1000)).toBeLessThan(24 * 3600);
    expect(loadConfig({ WEBHOOK_ALLOW_PRIVATE: 'true', WEBHOOK_TIMEOUT_MS: '1500' }, dir).webhooks).toMatchObject({
      allowPrivate: true,
      timeoutMs: 1500,
    });
    expect(() => loadConfig({ WEBHOOK_ALLOW_PRIVATE: 'maybe' }, dir)).toThrow(/WEBHOOK_ALLOW_PRIVATE must be true or false/);
  });

  it('reports every bad variable at once', () => {
    try {
      loadConfig({ PORT: 'x', THUMBNAIL_SIZE: 'y' }, dir);
      throw new Error('should have thrown');
    } catch (error) {
      expect((error as ConfigError).problems).toHaveLength(2);
    }
  });

  it('reads the other accepted forms', () => {
    const config = loadConfig(
      {
        DATABASE_URL: 'mongodb://user:pw@db:27017/thumbs',
        STORAGE_URL: 's3://thumbs-bucket?endpoint=http://minio:9000&region=eu-west-1&forcePathStyle=true',
        JWT_EXPIRES_IN: '15m',
        CORS_ORIGINS: 'https://a.example, https://b.example',
      },
      dir,
    );
    expect(config.database).toEqual({ kind: 'mongo', url: 'mongodb://user:pw@db:27017/thumbs' });
    expect(config.storage).toMatchObject({
      driver: 's3',
      bucket: 'thumbs-bucket',
      endpoint: 'http://minio:9000',
      region: 'eu-west-1',
      forcePathStyle: true,
    });
    expect(config.auth.jwtExpiresInSeconds).toBe(900);
    expect(config.http.corsOrigins).toEqual(['https://a.example', 'https://b.example']);
  });

  it('hides credentials of a bad URL in its message', () => {
    expect(() => loadConfig({ DATABASE_URL: 'mysql://root:hunter2@db/x' }, dir)).toThrow(/root:\*\*\*@db/);
  });
});
