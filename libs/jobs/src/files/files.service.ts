import { Injectable } from '@nestjs/common';
import type { Readable } from 'node:stream';
import { SignedResource, UrlSigner } from '@app/auth';
import { AppConfig, NotFoundError } from '@app/core';
import { ByteRange, StorageDriver } from '@app/storage';
import type { Job } from '../job';
import { JobsService } from '../jobs.service';
import { keyOf, parseFileName } from '../view/file-routes';

/** Who asks for a file: the signed-in user (any), and the signature from the query string. */
export interface FileAccess {
  userId: string | undefined;
  exp: unknown;
  sig: unknown;
}

/** A file its asker may read, with the rules for caching it. */
export interface ServedFile {
  job: Job;
  resource: SignedResource;
  key: string;
  size: number;
  contentType: string;
  etag: string;
  /** Private and immutable for as long as the signature (or a token's URL) lasts; originals are never transformed on the way. */
  cacheControl: string;
}

const CONTENT_TYPES: Record<Exclude<SignedResource, 'original'>, string> = {
  thumbnail: 'image/jpeg',
  thumbnail2x: 'image/jpeg',
  download: 'image/jpeg',
  preview: 'image/webp',
  animatedPreview: 'image/webp',
};

/**
 * A job's files for the file routes: who may read which (the owner with a token, anyone with a
 * valid signature; everyone else, and every missing file or malformed name, the same 404) and how
 * long they may be cached.
 */
@Injectable()
export class FilesService {
  constructor(
    private readonly jobs: JobsService,
    private readonly signer: UrlSigner,
    private readonly storage: StorageDriver,
    private readonly config: AppConfig,
  ) {}

  /** The file named `filename` on `route` (`thumbnails`, `originals`…), if `access` may read it; NotFoundError otherwise. */
  async find(route: string, filename: string, access: FileAccess): Promise<ServedFile> {
    const parsed = parseFileName(route, filename);
    const job = parsed ? await this.authorised(parsed.resource, parsed.jobId, access) : null;
    const key = job && parsed ? keyOf(job, parsed.resource) : null;
    const stat = key ? await this.storage.stat(key) : null;
    if (!parsed || !job || !key || !stat) throw new NotFoundError('Not found');
    const { resource } = parsed;
    const maxAge =
      access.userId !== undefined ? this.config.auth.signedUrlTtlSeconds : Math.max(0, Number(access.exp) - Math.floor(Date.now() / 1000));
    const cacheControl = `private, max-age=${maxAge}, immutable`;
    if (resource === 'original') {
      // no-transform: never compressed on the way (some originals, BMP and TIFF, have compressible types; a range must stay the stored bytes).
      return {
        job,
        resource,
        key,
        size: stat.size,
        contentType: job.mimeType,
        etag: `"${job.id}-o-${stat.size}"`,
        cacheControl: `${cacheControl}, no-transform`,
      };
    }
    // The thumbnail keeps its ETag of before the renditions (clients have it cached); the others name themselves.
    const tag = resource === 'thumbnail' || resource === 'download' ? '' : `${resource}-`;
    const etag = `"${job.id}-${tag}${stat.size}-${(job.completedAt ?? stat.modifiedAt).getTime().toString(36)}"`;
    return { job, resource, key, size: stat.size, contentType: CONTENT_TYPES[resource], etag, cacheControl };
  }

  /** The file's bytes, or one range of them. */
  read(file: ServedFile, range?: ByteRange): Promise<Readable> {
    return this.storage.read(file.key, range);
  }

  private async authorised(resource: SignedResource, jobId: string, access: FileAccess): Promise<Job | null> {
    const job = await this.jobs.findById(jobId);
    // The original exists from the upload on; renditions only once the job completed.
    if (!job || (resource !== 'original' && job.status !== 'completed')) return null;
    if (access.userId === job.userId) return job;
    return this.signer.verify(resource, job.id, job.userId, access.exp, access.sig) ? job : null;
  }
}
