import { Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import { ERRORS, Server, Upload } from '@tus/server';
import { AsyncLocalStorage } from 'node:async_hooks';
import { chmodSync, createReadStream, mkdirSync, statSync } from 'node:fs';
import * as fs from 'node:fs/promises';
import { STATUS_CODES } from 'node:http';
import * as path from 'node:path';
import { pipeline } from 'node:stream';
import type { Request, Response } from 'express';
import { AppConfig, newId, NotFoundError, RedisConnections } from '@app/core';
import { formatBytes } from '@app/shared';
import { classifyUpload, JobsService, parseAllowDuplicates, sanitiseFilename, Sha256Stream, SNIFF_BYTES, StoredUpload } from '@app/jobs';
import { Rejected, RejectionCode, THUMBNAIL_POSITIONS, ThumbnailPosition } from '@app/shared';
import { isStorageFull, STORAGE_FULL_MESSAGE, StorageDriver, StorageKeys } from '@app/storage';
import { ApiMetrics } from '../../observability/api-metrics';
import { MAX_PENDING_UPLOADS, PendingUploads } from './pending-uploads';
import { readHead, SniffingFileStore, TusReply, TusUpload } from './sniffing-file-store';

/** Where tus is mounted (the global prefix included: tus builds `Location` from it). */
export const TUS_PATH = '/api/uploads';
/** The header the last PATCH answers with: the job the upload became. */
export const JOB_ID_HEADER = 'Thumbs-Job-Id';
/** Headers a browser on another origin must be allowed to read for tus to work. */
export const TUS_EXPOSED_HEADERS = [
  'Location',
  'Upload-Offset',
  'Upload-Length',
  'Upload-Metadata',
  'Upload-Expires',
  'Tus-Resumable',
  'Tus-Version',
  'Tus-Extension',
  'Tus-Max-Size',
  JOB_ID_HEADER,
];
/** Upload ids as the file store names them (16 random bytes, hex). */
export const TUS_ID = /^[0-9a-f]{32}$/;
/** Metadata key holding the creator, set by the server (whatever a client sends under it is replaced). */
const OWNER = 'thumbsOwner';
/** How often expired unfinished uploads are looked for, at most. */
const CLEANUP_EVERY_MS = 60 * 60 * 1000;

/** What a request handed to tus carries from the controller (tus hooks get tus' own request object). */
interface TusCall {
  userId: string;
  requestId: string | null;
  /** The upload the controller checked the caller owns (HEAD, PATCH, DELETE): the only one tus may touch. */
  uploadId: string | null;
  /** The upload this request finished and removed, as tus may still look it up before answering. */
  finished?: TusUpload;
  /** The upload whose length this request reserved of the user's quota (creation). */
  reserved?: string;
}

const HTTP_STATUS_OF: Readonly<Record<RejectionCode, number>> = {
  too_large: 413,
  unsupported_type: 415,
  type_mismatch: 422,
  empty: 422,
  quota_exceeded: 413,
  duplicate: 422,
};

/**
 * tus 1.0 resumable uploads (`@tus/server` with the file store: partial uploads stay in the data
 * folder whatever STORAGE_URL says, then the finished file is streamed into the storage driver,
 * as a multipart upload is). The intake rules are the multipart route's: the size limit from
 * `Upload-Length`, the file's first bytes against its name and declared type, a job per file.
 */
@Injectable()
export class TusUploads implements OnModuleDestroy {
  private readonly log = new Logger('TusUploads');
  private readonly calls = new AsyncLocalStorage<TusCall>();
  private readonly store: SniffingFileStore;
  private readonly server: Server;
  private readonly cleanup: NodeJS.Timeout;
  private readonly pending: PendingUploads;

  constructor(
    private readonly config: AppConfig,
    private readonly jobs: JobsService,
    private readonly storage: StorageDriver,
    private readonly metrics: ApiMetrics,
    redis: RedisConnections,
  ) {
    const expiryMs = config.upload.tusExpirySeconds * 1000;
    this.pending = new PendingUploads(redis.get('commands'), config.redis.prefix, expiryMs);
    const directory = path.join(config.dataDir, 'tus');
    // Unfinished originals are the users' files: closed to other accounts on the machine (the file
    // store would make its folder 0777 less the umask, and its files 0644).
    mkdirSync(directory, { recursive: true, mode: 0o750 });
    try {
      chmodSync(directory, statSync(directory).mode & 0o770);
    } catch (error) {
      // Another account's folder (a volume made by another uid): its owner decides.
      this.log.warn(`Could not close ${directory} to other accounts: ${(error as Error).message}`);
    }
    this.store = new SniffingFileStore(
      { directory, expirationPeriodInMilliseconds: expiryMs },
      (upload, head) => this.checkHead(upload, head),
      {
        privateKeys: [OWNER],
        justFinished: (id) => {
          const finished = this.calls.getStore()?.finished;
          return finished?.id === id ? finished : undefined;
        },
      },
    );
    this.server = new JsonErrorServer({
      path: TUS_PATH,
      datastore: this.store,
      relativeLocation: true,
      // Bodies and statuses are ours; tus only adds its own CORS headers for the origins the api allows.
      allowedOrigins: (origin) => config.http.corsOrigins.includes(origin),
      exposedHeaders: [JOB_ID_HEADER],
      // The id the controller checked, not tus' own reading of the URL: tus takes the last segment
      // of the whole URL, query string included, so `/uploads/<mine>?x=/<theirs>` would pass the
      // owner check for <mine> and then act on <theirs>.
      getFileIdFromRequest: () => this.calls.getStore()?.uploadId ?? undefined,
      onUploadCreate: (_req, upload) => this.onCreate(upload),
      onUploadFinish: (_req, upload) => this.onFinish(upload),
      onResponseError: (_req, error) => this.asReply(error),
    });
    this.cleanup = setInterval(() => void this.removeExpired(), Math.min(CLEANUP_EVERY_MS, expiryMs)).unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.cleanup);
  }

  /**
   * Hands a request to tus for `userId` (null: the OPTIONS discovery, which needs no one), acting on
   * `uploadId` only (HEAD, PATCH, DELETE: the id whose owner the controller checked).
   */
  async handle(
    req: Request,
    res: Response,
    userId: string | null,
    requestId: string | null,
    uploadId: string | null = null,
  ): Promise<void> {
    const call: TusCall = { userId: userId ?? '', requestId, uploadId };
    await this.calls.run(call, () => this.server.handle(req, res));
    if (req.method === 'DELETE' && userId && uploadId && res.statusCode === 204) await this.release(userId, uploadId);
    // A creation that reserved and then failed (the store, a lock, a refusal of its first bytes).
    if (req.method === 'POST' && call.reserved && res.statusCode !== 201) await this.release(call.userId, call.reserved);
  }

  /** 404 unless upload `id` exists and was created by `userId` (another user's upload is not there for them). */
  async assertOwner(id: string, userId: string): Promise<void> {
    const metadata = await this.store.storedMetadata(id);
    if (metadata?.[OWNER] !== userId) throw new NotFoundError('No such upload');
  }

  /** Removes unfinished uploads older than TUS_EXPIRY; returns how many. */
  async removeExpired(): Promise<number> {
    try {
      const removed = await this.store.deleteExpired();
      if (removed > 0) this.log.log(`Removed ${removed} expired unfinished upload(s)`);
      return removed;
    } catch (error) {
      this.log.warn(`Expired uploads not cleaned up: ${(error as Error).message}`);
      return 0;
    }
  }

  private call(): TusCall {
    const call = this.calls.getStore();
    if (!call?.userId) throw new TusReply(401, errorBody(401, 'Sign in required'));
    return call;
  }

  /**
   * Creation: the size limit from Upload-Length, the user's quota and number of unfinished uploads
   * (the upload's length is reserved until it ends), and the creator recorded in the upload's state.
   */
  private async onCreate(upload: TusUpload): Promise<{ metadata: Record<string, string | null> }> {
    const call = this.call();
    const { userId } = call;
    const filename = sanitiseFilename(upload.metadata?.filename ?? '');
    const maxBytes = this.config.upload.maxFileBytes;
    if (upload.size === undefined) {
      throw new TusReply(400, errorBody(400, 'Upload-Length is required (deferred lengths are not accepted)'));
    }
    if (upload.size > maxBytes) {
      throw this.refuse(filename, 'too_large', `“${filename}” is larger than the ${formatBytes(maxBytes)} limit per file.`);
    }
    if (upload.size === 0) throw this.refuse(filename, 'empty', `“${filename}” is empty (0 bytes).`);
    positionOf(upload);
    allowDuplicatesOf(upload);
    await this.reserve(userId, upload.id, upload.size, filename);
    call.reserved = upload.id;
    return { metadata: { ...upload.metadata, [OWNER]: userId } };
  }

  private async reserve(userId: string, id: string, size: number, filename: string): Promise<void> {
    const limit = this.config.upload.userQuotaBytes;
    const used = limit > 0 ? await this.jobs.originalBytes(userId) : 0;
    let reservation;
    try {
      reservation = await this.pending.reserve(userId, id, size, { limit, used });
    } catch (error) {
      // Redis unreachable: the quota is still checked against what is stored, and again at the end.
      this.log.warn(`Unfinished uploads not counted (Redis: ${(error as Error).message})`);
      reservation = { ok: limit === 0 || used + size <= limit, why: 'quota', pendingBytes: 0 } as const;
    }
    if (reservation.ok) return;
    if (reservation.why === 'too_many') {
      throw new TusReply(
        429,
        errorBody(429, `You have ${MAX_PENDING_UPLOADS} unfinished uploads already: finish or cancel some first (unfinished ones expire).`),
      );
    }
    throw this.refuse(
      filename,
      'quota_exceeded',
      `“${filename}” (${formatBytes(size)}) does not fit in your storage quota: ${formatBytes(used)} of ${formatBytes(limit)} used` +
        (reservation.pendingBytes > 0 ? ` and ${formatBytes(reservation.pendingBytes)} held by unfinished uploads` : '') +
        '. Delete some files first.',
    );
  }

  private async release(userId: string, id: string): Promise<void> {
    await this.pending.release(userId, id).catch((error: Error) => this.log.warn(`Unfinished upload ${id} not released: ${error.message}`));
  }

  /** The first bytes (the sniff window, or the whole file if smaller): the multipart route's checks. */
  private async checkHead(upload: TusUpload, head: Buffer): Promise<TusReply | null> {
    const filename = sanitiseFilename(upload.metadata?.filename ?? '');
    const classification = await classifyUpload({
      head,
      filename,
      declaredType: upload.metadata?.filetype ?? '',
      size: upload.size ?? head.length + 1,
    });
    if (classification.accepted) return null;
    await this.release(this.call().userId, upload.id);
    return this.refuse(filename, classification.code, classification.message);
  }

  /**
   * The last byte is in: the file goes into storage and becomes a job, as a multipart upload does,
   * and the tus upload is removed. The file is first renamed aside, which only one request (of any
   * api process sharing the data folder) can do, so a repeated last PATCH cannot make two jobs.
   */
  private async onFinish(upload: TusUpload): Promise<{ headers: Record<string, string> }> {
    const call = this.call();
    const { userId, requestId } = call;
    const source = this.store.pathOf(upload.id);
    const claimed = `${source}.finishing`;
    try {
      await fs.rename(source, claimed);
    } catch {
      throw new TusReply(409, errorBody(409, 'This upload is already being finished'));
    }
    const filename = sanitiseFilename(upload.metadata?.filename ?? '');
    const size = upload.size ?? upload.offset;
    const classification = await classifyUpload({
      head: await readHead(claimed, SNIFF_BYTES),
      filename,
      declaredType: upload.metadata?.filetype ?? '',
      size,
    });
    if (!classification.accepted) {
      await this.discard(userId, upload.id, claimed);
      throw this.refuse(filename, classification.code, classification.message);
    }
    const jobId = newId();
    const key = StorageKeys.original(jobId);
    // The SHA-256 (duplicates) from the same bytes that stream into storage: no second read.
    const hashing = new Sha256Stream();
    const body = pipeline(createReadStream(claimed), hashing, () => undefined);
    try {
      const stored = await this.storage.put(key, body, { contentType: classification.media.mimeType });
      const intake: StoredUpload = {
        jobId,
        originalFilename: filename,
        media: classification.media,
        size: stored.size,
        key,
        contentHash: hashing.digest(),
        position: positionOf(upload),
      };
      // The multipart route's quota and duplicate rules (the refused copy is deleted from storage there).
      // Checked at creation; an upload created before that check (a value then taken as false) is not stranded here.
      const allowDuplicates = allowDuplicatesLenient(upload);
      const { jobs, rejected } = await this.jobs.acceptUploads(userId, [intake], requestId, { allowDuplicates });
      if (rejected.length > 0) {
        await this.discard(userId, upload.id, claimed);
        throw this.refusal(rejected[0]);
      }
      this.metrics.recordUpload(classification.media.fileType, stored.size);
      await this.discard(userId, upload.id, claimed);
      // A creation-with-upload of the whole file: tus reads the upload once more before answering.
      call.finished = new Upload({ ...upload, offset: size });
      return { headers: { [JOB_ID_HEADER]: jobs[0].id } };
    } catch (error) {
      if (error instanceof TusReply) throw error;
      // Storage may fail before reading a byte (its folder or bucket unreachable): close the file
      // then too, or its descriptor would keep the upload's disk space until the api restarts.
      body.destroy();
      // Put back, so that sending the last PATCH again (offset = length, no body) tries again.
      await this.storage.delete(key).catch(() => undefined);
      await fs.rename(claimed, source).catch(() => undefined);
      throw error;
    }
  }

  private async discard(userId: string, id: string, file: string): Promise<void> {
    try {
      await fs.rm(file, { force: true });
      await this.store.configstore.delete(id);
    } finally {
      await this.release(userId, id);
    }
  }

  private refuse(originalFilename: string, code: RejectionCode, message: string): TusReply {
    return this.refusal({ originalFilename, code, message });
  }

  private refusal(rejected: Rejected): TusReply {
    this.metrics.recordRejection(rejected.code);
    const statusCode = HTTP_STATUS_OF[rejected.code];
    return new TusReply(statusCode, JSON.stringify({ statusCode, error: STATUS_CODES[statusCode], ...rejected }));
  }

  /** Every tus error, for `write` to answer in the api's error shape; what is not tus' own is a 500 (or 507). */
  private asReply(error: Error | { status_code: number; body: string }): { status_code: number; body: string } {
    if ('status_code' in error && typeof error.status_code === 'number')
      return { status_code: error.status_code, body: String(error.body ?? '') };
    if (isStorageFull(error)) {
      this.log.warn(`tus request failed, storage full: ${(error as Error).message}`);
      return { status_code: 507, body: STORAGE_FULL_MESSAGE };
    }
    this.log.error(`tus request failed: ${error instanceof Error ? (error.stack ?? error.message) : JSON.stringify(error)}`);
    return { status_code: 500, body: 'Internal server error' };
  }
}

/**
 * Every tus answer is written here: its errors (its own protocol answers, a missing Tus-Resumable
 * header 412, an invalid header 400, no such route 404, come as plain text) in the api's error shape,
 * like every other error, with a JSON content type.
 */
class JsonErrorServer extends Server {
  override write(...[context, headers, status, body = '']: Parameters<Server['write']>): ReturnType<Server['write']> {
    if (status < 400 || body === '') return super.write(context, headers, status, body);
    headers.set('Content-Type', 'application/json; charset=utf-8');
    if (body.startsWith('{')) return super.write(context, headers, status, body);
    const code = statusOfTusError(status, body.trim());
    return super.write(context, headers, code, errorBody(code, body.trim()));
  }
}

/**
 * tus answers a PATCH without `Upload-Offset` or `Content-Type` 403, which says "not allowed" of a
 * malformed request, and one of another Content-Type 400: 400 and 415 (as tus 1.0 has it) here.
 */
function statusOfTusError(status: number, message: string): number {
  if (status === 403 && message === ERRORS.MISSING_OFFSET.body.trim()) return 400;
  if (status === 403 && message === ERRORS.INVALID_CONTENT_TYPE.body.trim()) return 415;
  if (status === 400 && message === 'Invalid content-type') return 415;
  return status;
}

/** The optional `position` metadata (crop of the square renditions); 400 when it names none. */
function positionOf(upload: TusUpload): ThumbnailPosition | undefined {
  const raw = upload.metadata?.position?.trim().toLowerCase();
  if (!raw) return undefined;
  const position = THUMBNAIL_POSITIONS.find((candidate) => candidate === (raw === 'center' ? 'centre' : raw));
  if (!position) throw new TusReply(400, errorBody(400, `position must be one of ${THUMBNAIL_POSITIONS.join(', ')}`));
  return position;
}

/** At the last PATCH: the metadata as parsed at creation, an unreadable value (from before that check) as false. */
function allowDuplicatesLenient(upload: TusUpload): boolean {
  try {
    return allowDuplicatesOf(upload);
  } catch {
    return false;
  }
}

/** The optional `allowDuplicates` metadata, read as the multipart field is (parseAllowDuplicates); 400 when it is neither. */
function allowDuplicatesOf(upload: TusUpload): boolean {
  try {
    return parseAllowDuplicates(upload.metadata?.allowDuplicates);
  } catch (error) {
    throw new TusReply(400, errorBody(400, (error as Error).message));
  }
}

function errorBody(statusCode: number, message: string): string {
  return JSON.stringify({ statusCode, error: STATUS_CODES[statusCode] ?? 'Error', message });
}
