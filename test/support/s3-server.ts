import { CreateBucketCommand, ListMultipartUploadsCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import type { Server } from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';

/** What the tests use of s3rver (it ships no type definitions). */
interface S3rverInstance {
  middleware: KoaMiddleware[];
  store: FilesystemStore;
  httpServer?: Server;
  run(): Promise<{ address: string; port: number }>;
  close(): Promise<void>;
}
interface FilesystemStore {
  getBucketPath(bucket: string): string;
  getResourcePath(bucket: string, key: string | undefined, resource: string): string;
  putMetadata(bucket: string, key: string, metadata: unknown, md5: string): Promise<void>;
  putObject(object: { bucket: string; key: string; content: Readable | Buffer; metadata: unknown }): Promise<{ size: number; md5: string }>;
  putPart(bucket: string, uploadId: string, partNumber: number, content: Readable): Promise<{ size: number; md5: string }>;
}
type S3rverConstructor = new (options: Record<string, unknown>) => S3rverInstance;
interface KoaContext {
  method: string;
  path: string;
  query: Record<string, string | string[] | undefined>;
  status: number;
  body: unknown;
  store: FilesystemStore;
}
type KoaMiddleware = (ctx: KoaContext, next: () => Promise<void>) => Promise<void> | void;

// eslint-disable-next-line @typescript-eslint/no-require-imports -- no types, see S3rverInstance
const S3rver = require('s3rver') as S3rverConstructor;

/** s3rver's fixed account; any other key pair is refused with InvalidAccessKeyId. */
export const S3RVER_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } as const;

/**
 * A real S3-protocol server (s3rver: Koa over the filesystem) on 127.0.0.1 and a random port,
 * its data in a temporary folder. Two gaps of s3rver 3.7.1 against S3 (and MinIO) are closed
 * here, or the tests would test s3rver rather than the driver:
 *  - it has no AbortMultipartUpload nor ListMultipartUploads (405/501): both are added before its
 *    router, on its own upload folders, so a test can check through the S3 API that a failed
 *    upload was aborted;
 *  - it answers a PUT (object or part) before the bytes are on disk, and overwrites objects in
 *    place: a GET right after a PUT could see half an object. S3 is strongly read-after-write
 *    consistent, so objects and parts are written to a temporary file, then renamed into place.
 */
export class S3TestServer {
  private constructor(
    private readonly server: S3rverInstance,
    readonly directory: string,
    readonly endpoint: string,
  ) {}

  static async start(): Promise<S3TestServer> {
    const base = fs.mkdtempSync(path.join(os.tmpdir(), 'thumbs-s3rver-'));
    const directory = path.join(base, 'buckets');
    const scratch = path.join(base, 'incoming');
    fs.mkdirSync(directory);
    fs.mkdirSync(scratch);
    const server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory });
    // Koa composes its middleware when the server starts listening: the router is the last one.
    server.middleware.splice(server.middleware.length - 1, 0, multipartUploadsShim);
    writeWholeFiles(server.store, scratch);
    const { port } = await server.run();
    return new S3TestServer(server, base, `http://127.0.0.1:${port}`);
  }

  /** `STORAGE_URL` for a bucket on this server. */
  storageUrl(bucket: string): string {
    return `s3://${bucket}?endpoint=${encodeURIComponent(this.endpoint)}&region=us-east-1&forcePathStyle=true`;
  }

  /** A client with the server's credentials (the caller destroys it). */
  client(): S3Client {
    return new S3Client({
      endpoint: this.endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: S3RVER_CREDENTIALS,
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
  }

  async createBucket(bucket: string): Promise<void> {
    await this.withClient((client) => client.send(new CreateBucketCommand({ Bucket: bucket })));
  }

  /** Every object key in the bucket, sorted. */
  async keys(bucket: string): Promise<string[]> {
    return this.withClient(async (client) => {
      const keys: string[] = [];
      let token: string | undefined;
      do {
        const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: token }));
        keys.push(...(page.Contents ?? []).map((object) => object.Key!));
        token = page.NextContinuationToken;
      } while (token);
      return keys.sort();
    });
  }

  /** Keys of multipart uploads started and neither completed nor aborted. */
  async pendingUploads(bucket: string): Promise<string[]> {
    return this.withClient(async (client) => {
      const page = await client.send(new ListMultipartUploadsCommand({ Bucket: bucket }));
      return (page.Uploads ?? []).map((upload) => upload.Key!).sort();
    });
  }

  async stop(): Promise<void> {
    this.server.httpServer?.closeAllConnections();
    await this.server.close();
    fs.rmSync(this.directory, { recursive: true, force: true });
  }

  private async withClient<T>(use: (client: S3Client) => Promise<T>): Promise<T> {
    const client = this.client();
    try {
      return await use(client);
    } finally {
      client.destroy();
    }
  }
}

/** Replaces the store's writes by ones that land whole, and only then answer. */
function writeWholeFiles(store: FilesystemStore, scratch: string): void {
  const writeWhole = async (content: Readable | Buffer, file: string): Promise<{ size: number; md5: string }> => {
    const md5 = createHash('md5');
    let size = 0;
    const temp = path.join(scratch, randomBytes(8).toString('hex'));
    try {
      await pipeline(
        Buffer.isBuffer(content) ? Readable.from([content]) : content,
        new Transform({
          transform(chunk: Buffer, _encoding, callback) {
            md5.update(chunk);
            size += chunk.length;
            callback(null, chunk);
          },
        }),
        fs.createWriteStream(temp),
      );
      await fs.promises.mkdir(path.dirname(file), { recursive: true });
      await fs.promises.rename(temp, file);
    } finally {
      await fs.promises.rm(temp, { force: true });
    }
    return { size, md5: md5.digest('hex') };
  };
  store.putObject = async (object) => {
    const written = await writeWhole(object.content, store.getResourcePath(object.bucket, object.key, 'object'));
    await store.putMetadata(object.bucket, object.key, object.metadata, written.md5);
    return written;
  };
  store.putPart = async (bucket, uploadId, partNumber, content) => {
    const file = path.join(store.getResourcePath(bucket, undefined, 'uploads'), uploadId, String(partNumber));
    const written = await writeWhole(content, file);
    await fs.promises.writeFile(`${file}.md5`, written.md5);
    return written;
  };
}

/** Where s3rver's filesystem store keeps unfinished multipart uploads of a bucket. */
function uploadsDir(ctx: KoaContext, bucket: string): string {
  return path.join(ctx.store.getBucketPath(bucket), '._S3rver_uploads');
}

/** AbortMultipartUpload and ListMultipartUploads (path-style requests only). */
const multipartUploadsShim: KoaMiddleware = async (ctx, next) => {
  const [, bucket, ...keyParts] = ctx.path.split('/');
  const key = keyParts.join('/');
  const uploadId = typeof ctx.query.uploadId === 'string' ? ctx.query.uploadId : undefined;
  if (ctx.method === 'DELETE' && bucket && key !== '' && uploadId) {
    const dir = path.join(uploadsDir(ctx, bucket), path.basename(uploadId));
    if (!fs.existsSync(dir)) {
      ctx.status = 404;
      ctx.body = { Error: { Code: 'NoSuchUpload', Message: 'The specified upload does not exist.', UploadId: uploadId } };
      return;
    }
    fs.rmSync(dir, { recursive: true, force: true });
    ctx.status = 204;
    return;
  }
  if (ctx.method === 'GET' && bucket && key === '' && 'uploads' in ctx.query) {
    const root = uploadsDir(ctx, bucket);
    const ids = fs.existsSync(root) ? fs.readdirSync(root) : [];
    const uploads = ids
      .filter((id) => fs.existsSync(path.join(root, id, 'key')))
      .map((id) => ({ Key: fs.readFileSync(path.join(root, id, 'key'), 'utf8'), UploadId: id }));
    ctx.status = 200;
    ctx.body = { ListMultipartUploadsResult: { Bucket: bucket, IsTruncated: false, ...(uploads.length > 0 ? { Upload: uploads } : {}) } };
    return;
  }
  await next();
};
