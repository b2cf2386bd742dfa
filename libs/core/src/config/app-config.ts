import type { ThumbnailPosition } from '@app/shared';

/**
 * The whole configuration of the service, typed. Built once by `loadConfig()` from the
 * environment; nothing else reads `process.env`. Injected everywhere by this class as DI token.
 */
export abstract class AppConfig {
  abstract readonly env: 'development' | 'production' | 'test';
  abstract readonly port: number;
  abstract readonly logLevel: LogLevel;
  abstract readonly dataDir: string;
  abstract readonly database: DatabaseConfig;
  abstract readonly redis: RedisConfig;
  abstract readonly storage: StorageConfig;
  abstract readonly auth: AuthConfig;
  abstract readonly upload: UploadConfig;
  abstract readonly thumbnails: ThumbnailConfig;
  abstract readonly worker: WorkerConfig;
  abstract readonly http: HttpConfig;
  abstract readonly webhooks: WebhookConfig;
  abstract readonly library: LibraryConfig;
}

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export type DatabaseConfig = { kind: 'sqlite'; url: string; path: string } | { kind: 'mongo'; url: string };

export interface RedisConfig {
  url: string;
  /** Prefix of every Redis key the service writes (queue, pub/sub channel, limits). */
  prefix: string;
}

export type StorageConfig =
  | { driver: 'file'; url: string; root: string }
  | {
      driver: 's3';
      url: string;
      bucket: string;
      endpoint?: string;
      region: string;
      forcePathStyle: boolean;
      accessKeyId?: string;
      secretAccessKey?: string;
      /** With temporary credentials (AWS_SESSION_TOKEN). */
      sessionToken?: string;
    };

export interface AuthConfig {
  jwtSecret: string;
  /** Where the secret came from, for the start-up log (never the secret itself). */
  jwtSecretSource: 'env' | 'generated' | 'data-dir';
  jwtExpiresInSeconds: number;
  /** Lifetime of a refresh token (the session cookie); each refresh rotates it and starts a new one. */
  refreshTtlSeconds: number;
  /** Lifetime of the signed thumbnail and download URLs. */
  signedUrlTtlSeconds: number;
  bcryptCost: number;
}

export interface UploadConfig {
  maxFileBytes: number;
  maxFilesPerRequest: number;
  /** Bytes of originals one user may keep; 0 = no quota. */
  userQuotaBytes: number;
  /** How long an unfinished resumable (tus) upload is kept before it is removed (TUS_EXPIRY). */
  tusExpirySeconds: number;
  /** An upload whose body brings no byte for this long is aborted with 408 (UPLOAD_IDLE_TIMEOUT_MS). */
  idleTimeoutMs: number;
  /** clamd to scan every original with before its job is queued (CLAMAV_URL, tcp://host:port); null: no scanning. */
  clamav: { host: string; port: number } | null;
}

export interface ThumbnailConfig {
  size: number;
  /** Longest edge of the WebP preview, pixels; 0 makes no previews. */
  previewSize: number;
  /** Default crop of the square renditions (an upload may choose its own). */
  position: ThumbnailPosition;
  /** Decoded pixels (width × height) above which an image is refused before decoding. */
  maxInputPixels: number;
  /**
   * Pixels per video frame above which a video is refused before decoding (and never above
   * maxInputPixels): decoding one frame costs ffmpeg ≈ 0.3 GB at 8K, ≈ 0.8 GB at 100 MP.
   */
  maxVideoPixels: number;
  ffmpegPath?: string;
  ffprobePath?: string;
  /** PATH, where system binaries (ffmpeg, ffprobe) are looked for. */
  searchPath: string;
}

export interface WorkerConfig {
  concurrency: number;
  jobTimeoutMs: number;
  /** How long a worker's hold on a job lasts without renewal before the job counts as stalled. */
  lockMs: number;
  /** How often a worker checks the queue's bookkeeping against the database. */
  sweepIntervalMs: number;
  /**
   * On SIGTERM a worker finishes its running jobs for up to this long, then hands the rest back
   * to the queue (another worker restarts them) and exits; an api lets its requests in flight
   * finish for up to this long, then closes the connections left.
   */
  shutdownGraceMs: number;
  /** Port of the worker's own /metrics and health endpoint; 0 turns it off. */
  metricsPort: number;
  /**
   * The worker's CPU priority as a nice value, 0 (normal) to 19 (lowest): on a machine it shares
   * with the api, the api gets a core first and answers promptly while thumbnails are being made.
   */
  nice: number;
}

export interface HttpConfig {
  corsOrigins: readonly string[];
  /** When set, /metrics requires `Authorization: Bearer <token>`. */
  metricsToken?: string;
  /** METRICS_PUBLIC=true: /metrics without a token in production, chosen on purpose. */
  metricsPublic: boolean;
  /** Requests per minute: sign-in and registration per client address, uploads per user, every request per API key. */
  rateLimits: { authPerMinute: number; uploadsPerMinute: number; archivesPerMinute: number; apiKeyPerMinute: number };
  /** Express "trust proxy" setting, so rate limits see the client's address behind a proxy. */
  trustProxy: string | number | boolean;
  /** Folder of the built web app served at `/`; empty when it is not built. */
  webRoot: string;
}

export interface WebhookConfig {
  /** Deliver to addresses that are loopback, private, link-local or cloud metadata (off: refused, against SSRF). */
  allowPrivate: boolean;
  /** How long one delivery attempt waits for an answer. */
  timeoutMs: number;
  /** First retry delay; each retry doubles it (BullMQ exponential backoff). */
  retryBaseMs: number;
  /** Attempts per event and webhook, the first included. */
  maxAttempts: number;
}

export interface LibraryConfig {
  /** How long a job stays in the trash (restorable) before it and its files are purged. */
  trashTtlSeconds: number;
  /**
   * How often the workers look for stored files that belong to no job (left by a process killed
   * between storing a file and recording its job, or between deleting a job and its files); 0: never.
   */
  orphanSweepSeconds: number;
  /** A file younger than this is never taken for an orphan (its upload request may still be running). */
  orphanMinAgeSeconds: number;
}
