import {
  AbortMultipartUploadCommand,
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  type BucketLocationConstraint,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { Logger } from '@nestjs/common';
import type { StorageConfig } from '@app/core';
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ByteLimit } from '../byte-limit';
import { assertValidKey, assertValidPrefix, isValidKey } from '../storage-keys';
import {
  ByteRange,
  ListedObject,
  ObjectNotFoundError,
  ObjectTooLargeError,
  PutOptions,
  StorageDriver,
  StoredObject,
} from '../storage.driver';

export type S3StorageConfig = Extract<StorageConfig, { driver: 's3' }>;

export interface S3StorageOptions {
  /** Where `withLocalFile` downloads objects; `os.tmpdir()` (read at each call) when not set. */
  tempDir?: string;
}

/** S3 refuses multipart uploads of more parts than this. */
const MAX_PARTS = 10_000;
/** The smallest part S3 accepts (except the last). */
const MIN_PART_BYTES = 5 * 1024 * 1024;
/**
 * Parts uploaded at once per object. An upload holds at most (this + 1) parts in memory, so a
 * 100 MiB original costs the api ~15 MiB of buffers, not 100.
 */
const PARTS_IN_FLIGHT = 2;
const DOWNLOAD_PREFIX = 'thumbs-s3-';

/**
 * Object storage driver (`STORAGE_URL=s3://<bucket>?endpoint=…&region=…&forcePathStyle=true`) for
 * AWS S3 and S3-compatible servers (MinIO, Ceph, R2, …). The object layout is the disk driver's:
 * keys are checked by `assertValidKey` and used as object keys unchanged.
 *
 * - `put` streams: a body smaller than one part is sent with one PutObject, anything larger as a
 *   multipart upload that is aborted when the body fails or grows past `maxBytes`. S3 only makes
 *   an object visible once the whole of it has arrived, so readers never see half an object.
 * - `withLocalFile` downloads to a private temporary file, removed afterwards whatever happens.
 * - The bucket is created on first use when it does not exist (friendly for a fresh MinIO); an
 *   existing bucket is never touched. Credentials that may not create buckets get a clear error.
 */
export class S3StorageDriver extends StorageDriver {
  readonly kind = 's3' as const;
  readonly bucket: string;
  private readonly client: S3Client;
  private readonly logger = new Logger(S3StorageDriver.name);
  private bucketReady?: Promise<void>;

  constructor(
    private readonly config: S3StorageConfig,
    private readonly options: S3StorageOptions = {},
  ) {
    super();
    this.bucket = config.bucket;
    const credentials =
      config.accessKeyId && config.secretAccessKey
        ? { accessKeyId: config.accessKeyId, secretAccessKey: config.secretAccessKey, sessionToken: config.sessionToken }
        : undefined;
    this.client = new S3Client({
      region: config.region,
      endpoint: config.endpoint,
      forcePathStyle: config.forcePathStyle,
      // Without explicit keys the SDK's default chain applies (env, shared config, IAM role).
      credentials,
      // S3-compatible servers (older MinIO, Ceph, R2, B2…) do not all understand the flexible
      // checksums the SDK sends to AWS by default: only send them where an operation requires one.
      ...(config.endpoint ? { requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' } : {}),
      // Fail fast on an unreachable endpoint; a stalled socket fails the request instead of hanging it.
      requestHandler: { connectionTimeout: 5_000, requestTimeout: 60_000 },
    });
  }

  async put(key: string, body: Readable | Buffer, options: PutOptions = {}): Promise<StoredObject> {
    assertValidKey(key);
    await this.ensureBucket();
    const contentType = options.contentType ?? 'application/octet-stream';
    if (Buffer.isBuffer(body)) {
      if (options.maxBytes !== undefined && body.length > options.maxBytes) throw new ObjectTooLargeError(options.maxBytes);
      await this.attempt(`put ${key}`, () =>
        this.client.send(
          new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: body, ContentType: contentType, ContentLength: body.length }),
        ),
      );
      return { size: body.length, modifiedAt: new Date() };
    }

    const limit = new ByteLimit(options.maxBytes);
    const upload = new Upload({
      client: this.client,
      params: { Bucket: this.bucket, Key: key, Body: limit, ContentType: contentType },
      partSize: partSizeFor(options.maxBytes),
      queueSize: PARTS_IN_FLIGHT,
      // Aborted below, where a failure to abort can be reported without hiding the cause.
      leavePartsOnError: true,
    });
    // The body fails (client gone, too large): the pipeline destroys `limit`, so the upload stops
    // reading and rejects. The upload fails (S3 down): destroying `limit` ends the pipeline.
    const [fed, uploaded] = await Promise.allSettled([
      pipeline(body, limit),
      upload.done().catch((error: unknown) => {
        limit.destroy(error as Error);
        throw error;
      }),
    ]);
    if (fed.status === 'fulfilled' && uploaded.status === 'fulfilled') return { size: limit.bytes, modifiedAt: new Date() };

    if (upload.uploadId) await this.abortMultipart(key, upload.uploadId);
    // The body's own error says what happened (ObjectTooLargeError, the client's abort); the
    // upload's error only echoes it then.
    if (fed.status === 'rejected') throw fed.reason;
    throw this.describe((uploaded as PromiseRejectedResult).reason, `put ${key}`);
  }

  async read(key: string, range?: ByteRange): Promise<Readable> {
    assertValidKey(key);
    try {
      const Range = range ? `bytes=${range.start}-${range.end}` : undefined;
      const response = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key, Range }));
      // In Node the SDK's body is an http.IncomingMessage: a Readable.
      return response.Body as Readable;
    } catch (error) {
      if (isMissingKey(error)) throw new ObjectNotFoundError(key);
      throw this.describe(error, `read ${key}`);
    }
  }

  async stat(key: string): Promise<StoredObject | null> {
    assertValidKey(key);
    try {
      const head = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      return { size: head.ContentLength ?? 0, modifiedAt: head.LastModified ?? new Date(0) };
    } catch (error) {
      if (isMissingKey(error)) return null;
      throw this.describe(error, `stat ${key}`);
    }
  }

  async delete(key: string): Promise<void> {
    assertValidKey(key);
    try {
      // DeleteObject succeeds for a missing key: deleting twice is not an error.
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
    } catch (error) {
      if (isMissingKey(error)) return;
      throw this.describe(error, `delete ${key}`);
    }
  }

  /** ListObjectsV2, a page (up to 1,000 keys) at a time. */
  async *list(prefix: string): AsyncIterable<ListedObject> {
    assertValidPrefix(prefix);
    await this.ensureBucket();
    let ContinuationToken: string | undefined;
    do {
      const page = await this.attempt(`list ${prefix}`, () =>
        this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ContinuationToken })),
      );
      for (const object of page.Contents ?? []) {
        if (!object.Key || !isValidKey(object.Key)) continue;
        // No LastModified (a server that leaves it out): an invalid date, never old enough for anyone.
        yield { key: object.Key, size: object.Size ?? 0, modifiedAt: object.LastModified ?? new Date(Number.NaN) };
      }
      ContinuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (ContinuationToken);
  }

  async withLocalFile<T>(key: string, work: (file: string) => Promise<T>): Promise<T> {
    const source = await this.read(key);
    const file = path.join(this.options.tempDir ?? os.tmpdir(), `${DOWNLOAD_PREFIX}${randomBytes(12).toString('hex')}`);
    try {
      // `wx`: never follow or reuse a file someone else put there; 600: originals are private.
      await pipeline(source, createWriteStream(file, { flags: 'wx', mode: 0o600 }));
      return await work(file);
    } finally {
      source.destroy();
      await fs.rm(file, { force: true });
    }
  }

  /** HeadBucket: the bucket exists and these credentials may use it (creating it on first use). */
  async ping(): Promise<void> {
    if (!this.bucketReady) return this.ensureBucket();
    await this.bucketReady;
    await this.attempt('reach the bucket', () => this.client.send(new HeadBucketCommand({ Bucket: this.bucket })));
  }

  /** Closes the client's sockets (Nest calls this when the application shuts down). */
  // After the HTTP server has closed (Nest: onModuleDestroy comes before it, onApplicationShutdown
  // after), so that downloads and uploads in flight keep their S3 connections for their grace.
  onApplicationShutdown(): void {
    this.client.destroy();
  }

  private ensureBucket(): Promise<void> {
    this.bucketReady ??= this.createBucketIfMissing().catch((error: unknown) => {
      this.bucketReady = undefined; // try again next time: the server may just be starting
      throw error;
    });
    return this.bucketReady;
  }

  private async createBucketIfMissing(): Promise<void> {
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: this.bucket }));
      return;
    } catch (error) {
      if (statusOf(error) !== 404) throw this.describe(error, 'reach the bucket');
    }
    try {
      await this.client.send(
        new CreateBucketCommand({
          Bucket: this.bucket,
          // us-east-1 is the one region that refuses to be named as a location constraint.
          ...(this.config.region === 'us-east-1'
            ? {}
            : { CreateBucketConfiguration: { LocationConstraint: this.config.region as BucketLocationConstraint } }),
        }),
      );
      this.logger.log(`Created bucket "${this.bucket}"${this.config.endpoint ? ` at ${this.config.endpoint}` : ''}`);
    } catch (error) {
      // Another process (the api and a worker start together) may have created it first
      // (BucketAlreadyOwnedByYou, or BucketAlreadyExists on some servers): fine if we can use it.
      const usable = await this.client.send(new HeadBucketCommand({ Bucket: this.bucket })).then(
        () => true,
        () => false,
      );
      if (!usable) throw this.describe(error, 'create the missing bucket');
    }
  }

  private async abortMultipart(key: string, uploadId: string): Promise<void> {
    try {
      await this.client.send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: key, UploadId: uploadId }));
    } catch (error) {
      // The object was never completed, so nobody can read it; only the parts' space is lost.
      this.logger.warn(
        `Could not abort the failed multipart upload of ${key} (${this.describe(error, 'abort').message}); ` +
          'a bucket lifecycle rule "AbortIncompleteMultipartUpload" reclaims such parts',
      );
    }
  }

  private async attempt<T>(doing: string, request: () => Promise<T>): Promise<T> {
    try {
      return await request();
    } catch (error) {
      throw this.describe(error, doing);
    }
  }

  /**
   * An error whose message says which bucket, where and what went wrong: the SDK's own messages
   * for HEAD requests are often just "UnknownError", and connection errors may have none at all.
   */
  private describe(error: unknown, doing: string): Error {
    if (error instanceof ObjectTooLargeError || error instanceof ObjectNotFoundError) return error;
    const status = statusOf(error);
    const cause = error as Error & { code?: string };
    const what =
      status === 403
        ? 'access denied (check AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY and the bucket policy)'
        : status === 404
          ? 'no such bucket'
          : status === 301
            ? `the bucket is in another region than "${this.config.region}"`
            : [
                cause.name !== 'Error' ? cause.name : '',
                cause.code ?? '',
                cause.message && cause.message !== 'UnknownError' ? cause.message : '',
                status ? `HTTP ${status}` : '',
              ]
                .filter(Boolean)
                .join(': ') || 'unknown error';
    const where = this.config.endpoint ? ` at ${this.config.endpoint}` : '';
    return new Error(`S3 bucket "${this.bucket}"${where}: could not ${doing}: ${what}`, { cause: error });
  }
}

/** Parts big enough that `maxBytes` fits in S3's 10,000 parts, never below S3's minimum. */
function partSizeFor(maxBytes: number | undefined): number {
  if (maxBytes === undefined || !Number.isFinite(maxBytes)) return MIN_PART_BYTES;
  return Math.max(MIN_PART_BYTES, Math.ceil(maxBytes / MAX_PARTS));
}

function statusOf(error: unknown): number | undefined {
  return (error as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata?.httpStatusCode;
}

/** A missing key: NoSuchKey from GET, a bare 404 from HEAD (which has no body to say more). */
function isMissingKey(error: unknown): boolean {
  return statusOf(error) === 404 && (error as Error).name !== 'NoSuchBucket';
}
