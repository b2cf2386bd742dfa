import { applyDecorators, Controller, Get, Param, Query, Req, Res, UseGuards } from '@nestjs/common';
import { API_KEY_SECURITY } from '../http/api-key-security';
import { ApiBearerAuth, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiParam, ApiProduces, ApiQuery, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { pipeline } from 'node:stream/promises';
import { AuthUser, CurrentUser, OptionalJwtAuthGuard, SignedResource, UrlSigner } from '@app/auth';
import { AppConfig, isId, NotFoundError } from '@app/core';
import { Job, JobsService } from '@app/jobs';
import { StorageDriver } from '@app/storage';
import { ErrorDto } from '../http/error.dto';

const FILE_NAME = /^([0-9a-f-]{36})\.jpg$/;

/** Swagger for a file route: a token or the signed URL's `exp` and `sig`; a JPEG or the same 404. */
function FileRoute(summary: string, ok: string): MethodDecorator {
  return applyDecorators(
    ApiOperation({ summary }),
    ApiBearerAuth(),
    ApiBearerAuth(API_KEY_SECURITY),
    ApiParam({ name: 'filename', example: '0190a7e2-…-….jpg' }),
    ApiQuery({ name: 'exp', required: false, description: 'From the signed URL' }),
    ApiQuery({ name: 'sig', required: false, description: 'From the signed URL' }),
    ApiProduces('image/jpeg'),
    ApiOkResponse({ description: ok }),
    ApiNotFoundResponse({ type: ErrorDto }),
  );
}

/**
 * Thumbnails, to their owner only: with a Bearer token, or with the signed URL from
 * `Job.thumbnailUrl` / `downloadUrl` (for <img> tags and links). Everyone else, and every
 * missing file or malformed name, gets the same 404.
 */
@ApiTags('files')
@Controller()
@UseGuards(OptionalJwtAuthGuard)
export class FilesController {
  constructor(
    private readonly jobs: JobsService,
    private readonly signer: UrlSigner,
    private readonly storage: StorageDriver,
    private readonly config: AppConfig,
  ) {}

  @Get('thumbnails/:filename')
  @FileRoute('A thumbnail (JPEG), for its owner', 'The JPEG, with ETag and Cache-Control')
  async thumbnail(
    @Param('filename') filename: string,
    @Query() query: Record<string, unknown>,
    @CurrentUser() user: AuthUser | undefined,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    await this.send('thumbnail', filename, query, user, req, res);
  }

  @Get('download/:filename')
  @FileRoute('A thumbnail as a download named after the original file', 'The JPEG, with Content-Disposition: attachment')
  async download(
    @Param('filename') filename: string,
    @Query() query: Record<string, unknown>,
    @CurrentUser() user: AuthUser | undefined,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    await this.send('download', filename, query, user, req, res);
  }

  private async send(
    resource: SignedResource,
    filename: string,
    query: Record<string, unknown>,
    user: AuthUser | undefined,
    req: Request,
    res: Response,
  ): Promise<void> {
    const job = await this.authorised(resource, filename, query, user);
    const stat = job?.thumbnailKey ? await this.storage.stat(job.thumbnailKey) : null;
    if (!job?.thumbnailKey || !stat) throw new NotFoundError('Not found');

    const etag = `"${job.id}-${stat.size}-${(job.completedAt ?? stat.modifiedAt).getTime().toString(36)}"`;
    const signedExp = Number(query.exp);
    const maxAge = user ? this.config.auth.signedUrlTtlSeconds : Math.max(0, signedExp - Math.floor(Date.now() / 1000));
    res.setHeader('ETag', etag);
    res.setHeader('Cache-Control', `private, max-age=${maxAge}, immutable`);
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Vary', 'Authorization');
    if (resource === 'download') res.setHeader('Content-Disposition', contentDisposition(job.originalFilename));
    if (req.headers['if-none-match'] === etag) {
      res.status(304).end();
      return;
    }
    res.status(200).setHeader('Content-Type', 'image/jpeg');
    res.setHeader('Content-Length', String(stat.size));
    await pipeline(await this.storage.read(job.thumbnailKey), res);
  }

  private async authorised(
    resource: SignedResource,
    filename: string,
    query: Record<string, unknown>,
    user: AuthUser | undefined,
  ): Promise<Job | null> {
    const jobId = FILE_NAME.exec(filename)?.[1];
    if (!jobId || !isId(jobId)) return null;
    const job = await this.jobs.findById(jobId);
    if (!job || job.status !== 'completed') return null;
    if (user && user.id === job.userId) return job;
    return this.signer.verify(resource, job.id, job.userId, query.exp, query.sig) ? job : null;
  }
}

/** `attachment` with an ASCII fallback name and the exact UTF-8 name (RFC 6266 / 5987). */
export function contentDisposition(originalFilename: string): string {
  const base = originalFilename.replace(/\.[^.]*$/, '') || 'thumbnail';
  const name = `${base}-thumb.jpg`;
  const ascii =
    name
      .normalize('NFKD')
      .replace(/[^\x20-\x7e]/g, '')
      .replace(/["\\%;]/g, '_')
      .trim() || 'thumbnail-thumb.jpg';
  const encoded = encodeURIComponent(name).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encoded}`;
}
