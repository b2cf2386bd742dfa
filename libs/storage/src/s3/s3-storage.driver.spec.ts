import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { buffer } from 'node:stream/consumers';
import { S3RVER_CREDENTIALS, S3TestServer } from '@test/support/s3-server';
import { freePort } from '@test/support/stack';
import { StorageKeys } from '../storage-keys';
import { describeStorageContract } from '@test/support/storage-contract';
import { ObjectNotFoundError } from '../storage.driver';
import { createStorageDriver } from '../storage.module';
import { S3StorageConfig, S3StorageDriver } from './s3-storage.driver';

// Every case talks S3 over HTTP to a real S3-protocol server (s3rver) on 127.0.0.1.
let server: S3TestServer;
let buckets = 0;
const drivers: S3StorageDriver[] = [];

beforeAll(async () => {
  server = await S3TestServer.start();
});

afterAll(async () => {
  drivers.forEach((driver) => driver.onApplicationShutdown());
  await server?.stop();
});

function config(bucket: string, overrides: Partial<S3StorageConfig> = {}): S3StorageConfig {
  return {
    driver: 's3',
    url: server.storageUrl(bucket),
    bucket,
    endpoint: server.endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    ...S3RVER_CREDENTIALS,
    ...overrides,
  };
}

function driver(bucket: string, options: { tempDir?: string; config?: Partial<S3StorageConfig> } = {}): S3StorageDriver {
  const created = new S3StorageDriver(config(bucket, options.config), { tempDir: options.tempDir });
  drivers.push(created);
  return created;
}

function freshBucket(): string {
  buckets += 1;
  return `thumbs-${process.pid}-${buckets}`;
}

function downloadsIn(dir: string): string[] {
  return fs.readdirSync(dir).filter((name) => name.startsWith('thumbs-s3-'));
}

describeStorageContract('S3StorageDriver (s3rver)', async () => {
  const bucket = freshBucket();
  await server.createBucket(bucket);
  const tempDir = fs.mkdtempSync(path.join(os.tmpdir(), 'thumbs-s3-spec-'));
  const storage = driver(bucket, { tempDir });
  return {
    driver: storage,
    storedKeys: () => server.keys(bucket),
    leftovers: async () => [...(await server.pendingUploads(bucket)).map((key) => `multipart upload of ${key}`), ...downloadsIn(tempDir)],
    dispose: () => {
      storage.onApplicationShutdown();
      fs.rmSync(tempDir, { recursive: true, force: true });
      return Promise.resolve();
    },
  };
});

describe('S3StorageDriver', () => {
  let tempDir: string;

  beforeEach(() => {
    tempDir = fs.mkdtempSync(path.join(os.tmpdir(), 'thumbs-s3-spec-'));
  });

  afterEach(() => fs.rmSync(tempDir, { recursive: true, force: true }));

  it('is what createStorageDriver builds for an s3:// STORAGE_URL', () => {
    const storage = createStorageDriver(config('thumbs'));
    expect(storage).toBeInstanceOf(S3StorageDriver);
    expect(storage.kind).toBe('s3');
    (storage as S3StorageDriver).onApplicationShutdown();
  });

  it('creates a missing bucket on first use (several processes at once), and leaves an existing one as it is', async () => {
    const bucket = freshBucket();
    const [api, worker] = [driver(bucket), driver(bucket)];
    await Promise.all([api.ping(), worker.ping()]);
    await worker.put(StorageKeys.original('0190a7e2-0000-7000-8000-000000000010'), Buffer.from('kept'));

    const later = driver(bucket);
    await later.ping();
    await later.put(StorageKeys.thumbnail('0190a7e2-0000-7000-8000-000000000010'), Buffer.from('jpeg'));
    expect(await server.keys(bucket)).toEqual([
      'processed/0190a7e2-0000-7000-8000-000000000010/thumb.jpg',
      'uploads/0190a7e2-0000-7000-8000-000000000010',
    ]);
    await api.ping();
  });

  it('downloads for withLocalFile into a private temporary file that is gone afterwards, even when the work fails', async () => {
    const bucket = freshBucket();
    const storage = driver(bucket, { tempDir });
    const key = StorageKeys.original('0190a7e2-0000-7000-8000-000000000011');
    await storage.put(key, Buffer.from('original bytes'));

    const seen: string[] = [];
    const results = await Promise.all(
      [1, 2, 3].map((n) =>
        storage.withLocalFile(key, (file) => {
          seen.push(file);
          expect(path.dirname(file)).toBe(tempDir);
          expect(fs.statSync(file).mode & 0o777).toBe(0o600);
          return Promise.resolve(`${n}:${fs.readFileSync(file, 'utf8')}`);
        }),
      ),
    );
    expect(results).toEqual(['1:original bytes', '2:original bytes', '3:original bytes']);
    expect(new Set(seen).size).toBe(3);
    expect(downloadsIn(tempDir)).toEqual([]);

    await expect(
      storage.withLocalFile(key, (file) => {
        expect(fs.existsSync(file)).toBe(true);
        return Promise.reject(new Error('ffmpeg crashed'));
      }),
    ).rejects.toThrow('ffmpeg crashed');
    expect(downloadsIn(tempDir)).toEqual([]);

    await expect(
      storage.withLocalFile(StorageKeys.original('0190a7e2-0000-7000-8000-000000000012'), () => Promise.resolve(1)),
    ).rejects.toBeInstanceOf(ObjectNotFoundError);
    expect(downloadsIn(tempDir)).toEqual([]);
  });

  it('uses os.tmpdir() for downloads by default', async () => {
    const storage = driver(freshBucket());
    const key = StorageKeys.original('0190a7e2-0000-7000-8000-000000000013');
    await storage.put(key, Buffer.from('x'));
    const file = await storage.withLocalFile(key, (local) => Promise.resolve(local));
    expect(path.dirname(file)).toBe(os.tmpdir());
    expect(fs.existsSync(file)).toBe(false);
  });

  it('reports refused credentials by bucket and cause, and writes nothing', async () => {
    const bucket = freshBucket();
    await server.createBucket(bucket);
    const storage = driver(bucket, { config: { accessKeyId: 'WRONG', secretAccessKey: 'WRONG-SECRET' } });
    await expect(storage.ping()).rejects.toThrow(
      new RegExp(`S3 bucket "${bucket}" at ${server.endpoint}: could not reach the bucket: access denied`),
    );
    await expect(storage.put('uploads/x', Buffer.from('x'))).rejects.toThrow(/access denied/);
    expect(await server.keys(bucket)).toEqual([]);
  });

  it('fails fast, naming the endpoint, when nothing answers there', async () => {
    const endpoint = `http://127.0.0.1:${await freePort()}`;
    const storage = driver('thumbs', { config: { endpoint } });
    const started = Date.now();
    await expect(storage.ping()).rejects.toThrow(`S3 bucket "thumbs" at ${endpoint}: could not reach the bucket`);
    await expect(storage.put('uploads/x', Buffer.from('x'))).rejects.toThrow(endpoint);
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('serves reads as streams that can be consumed later', async () => {
    const storage = driver(freshBucket());
    const key = StorageKeys.thumbnail('0190a7e2-0000-7000-8000-000000000014');
    await storage.put(key, Buffer.alloc(200_000, 7), { contentType: 'image/jpeg' });
    const stream = await storage.read(key);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect((await buffer(stream)).equals(Buffer.alloc(200_000, 7))).toBe(true);
  });
});
