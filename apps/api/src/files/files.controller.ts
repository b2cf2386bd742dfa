import { applyDecorators, Controller, Get, Param, Query, Req, Res, UseGuards } from '@nestjs/common';
import { API_KEY_SECURITY } from '../http/api-key-security';
import {
  ApiBearerAuth,
  ApiHeader,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiProduces,
  ApiQuery,
  ApiResponse,
  ApiTags,
} from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { pipeline } from 'node:stream/promises';
import { AuthUser, CurrentUser, OptionalJwtAuthGuard, SignedResource, UrlSigner } from '@app/auth';
import { AppConfig, isId, NotFoundError } from '@app/core';
import { Job, JobsService } from '@app/jobs';
import { ByteRange, StorageDriver, StoredObject } from '@app/storage';
import { ErrorDto } from '../http/error.dto';
import { keyOf, parseFileName } from '@app/jobs';

const CONTENT_TYPES: Record<Exclude<SignedResource, 'original'>, string> = {
  thumbnail: 'image/jpeg',
  thumbnail2x: 'image/jpeg',
  download: 'image/jpeg',
  preview: 'image/webp',
  animatedPreview: 'image/webp',
};

/** Swagger for a file route: a token or the signed URL's `exp` and `sig`; the file or the same 404. */
function FileRoute(summary: string, ok: string, example: string, produces: string[]): MethodDecorator {
  return applyDecorators(
    ApiOperation({ summary }),
    ApiBearerAuth(),
    ApiBearerAuth(API_KEY_SECURITY),
    ApiParam({ name: 'filename', example }),
    ApiQuery({ name: 'exp', required: false, description: 'From the signed URL' }),
    ApiQuery({ name: 'sig', required: false, description: 'From the signed URL' }),
    ApiProduces(...produces),
    ApiOkResponse({ description: ok }),
    ApiResponse({ status: 304, description: 'Not modified (If-None-Match matched the ETag)' }),
    ApiNotFoundResponse({ type: ErrorDto, description: 'Not the owner, a bad or expired signature, a missing file or a malformed name' }),
  );
}

/**
 * A job's files, to their owner only: with a Bearer token, or with the signed URL from the job
 * (`thumbnailUrl`, `thumbnail2xUrl`, `previewUrl`, `animatedPreviewUrl`, `downloadUrl`,
 * `originalUrl`: for <img> and <video> tags and links). Everyone else, and every missing file or
 * malformed name, gets the same 404.
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
  @FileRoute(
    'A thumbnail (JPEG, THUMBNAIL_SIZE square), or `<id>@2x.jpg` for the 2× one, for its owner',
    'The JPEG, with ETag and Cache-Control',
    '0190a7e2-…-….jpg',
    ['image/jpeg'],
  )
  async thumbnail(
    @Param('filename') filename: string,
    @Query() query: Record<string, unknown>,
    @CurrentUser() user: AuthUser | undefined,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    await this.send('thumbnails', filename, query, user, req, res);
  }

  @Get('download/:filename')
  @FileRoute(
    'A thumbnail as a download named after the original file',
    'The JPEG, with Content-Disposition: attachment',
    '0190a7e2-…-….jpg',
    ['image/jpeg'],
  )
  async download(
    @Param('filename') filename: string,
    @Query() query: Record<string, unknown>,
    @CurrentUser() user: AuthUser | undefined,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    await this.send('download', filename, query, user, req, res);
  }

  @Get('previews/:filename')
  @FileRoute(
    'The preview (WebP, longest edge PREVIEW_SIZE, never upscaled), for its owner',
    'The WebP, with ETag and Cache-Control',
    '0190a7e2-…-….webp',
    ['image/webp'],
  )
  async preview(
    @Param('filename') filename: string,
    @Query() query: Record<string, unknown>,
    @CurrentUser() user: AuthUser | undefined,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    await this.send('previews', filename, query, user, req, res);
  }

  @Get('animated-previews/:filename')
  @FileRoute(
    'A video’s animated preview (looping WebP of a few frames, 2×THUMBNAIL_SIZE square), for its owner',
    'The animated WebP, with ETag and Cache-Control',
    '0190a7e2-…-….webp',
    ['image/webp'],
  )
  async animatedPreview(
    @Param('filename') filename: string,
    @Query() query: Record<string, unknown>,
    @CurrentUser() user: AuthUser | undefined,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    await this.send('animated-previews', filename, query, user, req, res);
  }

  @Get('originals/:filename')
  @FileRoute(
    'The original file, streamed back to its owner (any job status)',
    'The whole file with its sniffed type, `Accept-Ranges: bytes`, `X-Content-Type-Options: nosniff` and `Content-Security-Policy: sandbox` (never rendered as a page)',
    '0190a7e2-…-…',
    ['image/*', 'video/*'],
  )
  @ApiHeader({ name: 'Range', required: false, description: 'One byte range (`bytes=0-1023`, `bytes=1024-`, `bytes=-500`)' })
  @ApiResponse({ status: 206, description: 'The requested byte range, with `Content-Range`' })
  @ApiResponse({ status: 416, type: ErrorDto, description: 'The range lies outside the file; `Content-Range: bytes */<size>`' })
  async original(
    @Param('filename') filename: string,
    @Query() query: Record<string, unknown>,
    @CurrentUser() user: AuthUser | undefined,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    const found = await this.find('originals', filename, query, user);
    const { job, key, stat } = found;
    const etag = `"${job.id}-o-${stat.size}"`;
    this.cacheHeaders(res, etag, user, query);
    // no-transform: never compressed on the way (some originals, BMP and TIFF, have compressible types; a range must stay the stored bytes).
    res.setHeader('Cache-Control', `${String(res.getHeader('Cache-Control'))}, no-transform`);
    res.setHeader('Content-Security-Policy', 'sandbox');
    res.setHeader('Accept-Ranges', 'bytes');
    if (req.headers['if-none-match'] === etag) {
      res.status(304).end();
      return;
    }
    const range = this.rangeOf(req, stat.size, etag);
    if (range === 'unsatisfiable') {
      res.status(416).setHeader('Content-Range', `bytes */${stat.size}`);
      res.setHeader('Cache-Control', 'no-store');
      res.json({ statusCode: 416, error: 'Range Not Satisfiable', message: `The range is outside the file (${stat.size} bytes).` });
      return;
    }
    res.setHeader('Content-Type', job.mimeType);
    if (range) {
      res.status(206).setHeader('Content-Range', `bytes ${range.start}-${range.end}/${stat.size}`);
      res.setHeader('Content-Length', String(range.end - range.start + 1));
    } else {
      res.status(200).setHeader('Content-Length', String(stat.size));
    }
    await pipeline(await this.storage.read(key, range ?? undefined), res).catch((error: NodeJS.ErrnoException) => {
      // A <video> tag drops connections whenever it seeks: not an error worth a log line.
      if (error.code !== 'ERR_STREAM_PREMATURE_CLOSE') throw error;
    });
  }

  private async send(
    route: string,
    filename: string,
    query: Record<string, unknown>,
    user: AuthUser | undefined,
    req: Request,
    res: Response,
  ): Promise<void> {
    const { job, resource, stat, key } = await this.find(route, filename, query, user);
    if (resource === 'original') throw new NotFoundError('Not found');
    // The thumbnail keeps its ETag of before the renditions (clients have it cached); the others name themselves.
    const tag = resource === 'thumbnail' || resource === 'download' ? '' : `${resource}-`;
    const etag = `"${job.id}-${tag}${stat.size}-${(job.completedAt ?? stat.modifiedAt).getTime().toString(36)}"`;
    this.cacheHeaders(res, etag, user, query);
    if (resource === 'download') res.setHeader('Content-Disposition', contentDisposition(job.originalFilename));
    if (req.headers['if-none-match'] === etag) {
      res.status(304).end();
      return;
    }
    res.status(200).setHeader('Content-Type', CONTENT_TYPES[resource]);
    res.setHeader('Content-Length', String(stat.size));
    await pipeline(await this.storage.read(key), res);
  }

  /** ETag, private immutable caching for as long as the signature (or a token's URL) lasts, nosniff. */
  private cacheHeaders(res: Response, etag: string, user: AuthUser | undefined, query: Record<string, unknown>): void {
    const maxAge = user ? this.config.auth.signedUrlTtlSeconds : Math.max(0, Number(query.exp) - Math.floor(Date.now() / 1000));
    res.setHeader('ETag', etag);
    res.setHeader('Cache-Control', `private, max-age=${maxAge}, immutable`);
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Vary', 'Authorization');
  }

  /**
   * The one byte range asked for, null for the whole file (no `Range`, a malformed one, several
   * ranges, or an `If-Range` that no longer matches: RFC 9110 lets a server send the whole file),
   * or 'unsatisfiable'.
   */
  private rangeOf(req: Request, size: number, etag: string): ByteRange | null | 'unsatisfiable' {
    if (!req.headers.range) return null;
    const ifRange = req.headers['if-range'];
    if (ifRange !== undefined && ifRange !== etag) return null;
    const ranges = req.range(size, { combine: true });
    if (ranges === -1) return 'unsatisfiable';
    if (ranges === undefined || ranges === -2 || ranges.type !== 'bytes' || ranges.length !== 1) return null;
    return { start: ranges[0].start, end: ranges[0].end };
  }

  /** The job and stored object behind a file name of a route, for its owner or a valid signature; 404 otherwise. */
  private async find(
    route: string,
    filename: string,
    query: Record<string, unknown>,
    user: AuthUser | undefined,
  ): Promise<{ job: Job; resource: SignedResource; key: string; stat: StoredObject }> {
    const parsed = parseFileName(route, filename);
    const job = parsed ? await this.authorised(parsed.resource, parsed.jobId, query, user) : null;
    const key = job && parsed ? keyOf(job, parsed.resource) : null;
    const stat = key ? await this.storage.stat(key) : null;
    if (!parsed || !job || !key || !stat) throw new NotFoundError('Not found');
    return { job, resource: parsed.resource, key, stat };
  }

  private async authorised(
    resource: SignedResource,
    jobId: string,
    query: Record<string, unknown>,
    user: AuthUser | undefined,
  ): Promise<Job | null> {
    if (!isId(jobId)) return null;
    const job = await this.jobs.findById(jobId);
    // The original exists from the upload on; renditions only once the job completed.
    if (!job || (resource !== 'original' && job.status !== 'completed')) return null;
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
