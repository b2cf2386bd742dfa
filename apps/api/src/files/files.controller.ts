import { applyDecorators, Controller, Get, Param, Query, Req, Res, UseGuards } from '@nestjs/common';
import { ApiKeyAccess } from '../http/api-key-security';
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
import { AuthUser, CurrentUser, OptionalJwtAuthGuard } from '@app/auth';
import { NotFoundError } from '@app/core';
import { FileAccess, FilesService, ServedFile } from '@app/jobs';
import type { ByteRange } from '@app/storage';
import { ErrorDto } from '../http/error.dto';

/** Swagger for a file route: a token, a `read` key or the signed URL's `exp` and `sig`; the file or the same 404. */
function FileRoute(summary: string, ok: string, example: string, produces: string[]): MethodDecorator {
  return applyDecorators(
    ApiOperation({ summary }),
    ApiBearerAuth(),
    ApiKeyAccess('read'),
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
 * malformed name, gets the same 404; an API key without `read` (and no signature) gets 403.
 */
@ApiTags('files')
@Controller()
@UseGuards(OptionalJwtAuthGuard)
export class FilesController {
  constructor(private readonly files: FilesService) {}

  @Get('thumbnails/:filename')
  @FileRoute(
    'A thumbnail (JPEG, THUMBNAIL_SIZE square), or `<id>@2x.jpg` for the 2× one, for its owner',
    'The JPEG, with ETag and Cache-Control',
    '0190a7e2-…-….jpg',
    ['image/jpeg'],
  )
  async thumbnail(@Param('filename') filename: string, @Req() req: Request, @Res() res: Response): Promise<void> {
    await this.send('thumbnails', filename, req, res);
  }

  @Get('download/:filename')
  @FileRoute(
    'A thumbnail as a download named after the original file',
    'The JPEG, with Content-Disposition: attachment',
    '0190a7e2-…-….jpg',
    ['image/jpeg'],
  )
  async download(@Param('filename') filename: string, @Req() req: Request, @Res() res: Response): Promise<void> {
    await this.send('download', filename, req, res);
  }

  @Get('previews/:filename')
  @FileRoute(
    'The preview (WebP, longest edge PREVIEW_SIZE, never upscaled), for its owner',
    'The WebP, with ETag and Cache-Control',
    '0190a7e2-…-….webp',
    ['image/webp'],
  )
  async preview(@Param('filename') filename: string, @Req() req: Request, @Res() res: Response): Promise<void> {
    await this.send('previews', filename, req, res);
  }

  @Get('animated-previews/:filename')
  @FileRoute(
    'A video’s animated preview (looping WebP of a few frames, 2×THUMBNAIL_SIZE square), for its owner',
    'The animated WebP, with ETag and Cache-Control',
    '0190a7e2-…-….webp',
    ['image/webp'],
  )
  async animatedPreview(@Param('filename') filename: string, @Req() req: Request, @Res() res: Response): Promise<void> {
    await this.send('animated-previews', filename, req, res);
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
    const file = await this.files.find('originals', filename, accessOf(user, query));
    cacheHeaders(res, file);
    res.setHeader('Content-Security-Policy', 'sandbox');
    res.setHeader('Accept-Ranges', 'bytes');
    if (notModified(req, file)) {
      res.status(304).end();
      return;
    }
    const range = rangeOf(req, file);
    if (range === 'unsatisfiable') {
      res.status(416).setHeader('Content-Range', `bytes */${file.size}`);
      res.setHeader('Cache-Control', 'no-store');
      res.json({ statusCode: 416, error: 'Range Not Satisfiable', message: `The range is outside the file (${file.size} bytes).` });
      return;
    }
    res.setHeader('Content-Type', file.contentType);
    if (range) {
      res.status(206).setHeader('Content-Range', `bytes ${range.start}-${range.end}/${file.size}`);
      res.setHeader('Content-Length', String(range.end - range.start + 1));
    } else {
      res.status(200).setHeader('Content-Length', String(file.size));
    }
    await pipeline(await this.files.read(file, range ?? undefined), res).catch((error: NodeJS.ErrnoException) => {
      // A <video> tag drops connections whenever it seeks: not an error worth a log line.
      if (error.code !== 'ERR_STREAM_PREMATURE_CLOSE') throw error;
    });
  }

  /** A rendition of a file route: the file named in the path, for the request's user or signature. */
  private async send(route: string, filename: string, req: Request, res: Response): Promise<void> {
    const file = await this.files.find(route, filename, accessOf(req.user as AuthUser | undefined, req.query));
    if (file.resource === 'original') throw new NotFoundError('Not found');
    cacheHeaders(res, file);
    if (file.resource === 'download') res.setHeader('Content-Disposition', contentDisposition(file.job.originalFilename));
    if (notModified(req, file)) {
      res.status(304).end();
      return;
    }
    res.status(200).setHeader('Content-Type', file.contentType);
    res.setHeader('Content-Length', String(file.size));
    await pipeline(await this.files.read(file), res);
  }
}

function accessOf(user: AuthUser | undefined, query: Record<string, unknown>): FileAccess {
  return { userId: user?.id, exp: query.exp, sig: query.sig };
}

/**
 * Whether the client's copy is the file's (`If-None-Match` is its ETag): 304. Not Express's
 * `req.fresh`: it answers stale to any request with `Cache-Control: no-cache`, which fetch() adds
 * to every request that sets `If-None-Match` itself, so such clients would never get their 304.
 */
function notModified(req: Request, file: ServedFile): boolean {
  return req.headers['if-none-match'] === file.etag;
}

/** The file's ETag and caching rule, nosniff, and Vary on the token. */
function cacheHeaders(res: Response, file: ServedFile): void {
  res.setHeader('ETag', file.etag);
  res.setHeader('Cache-Control', file.cacheControl);
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Vary', 'Authorization');
}

/**
 * The one byte range asked for, null for the whole file (no `Range`, a malformed one, several
 * ranges, or an `If-Range` that no longer matches: RFC 9110 lets a server send the whole file),
 * or 'unsatisfiable'.
 */
function rangeOf(req: Request, file: ServedFile): ByteRange | null | 'unsatisfiable' {
  if (!req.headers.range) return null;
  const ifRange = req.headers['if-range'];
  if (ifRange !== undefined && ifRange !== file.etag) return null;
  const ranges = req.range(file.size, { combine: true });
  // range-parser calls a suffix longer than the file unsatisfiable; RFC 9110 (14.1.3) says it
  // selects the whole file.
  const suffix = /^bytes=\s*-\s*(\d+)\s*$/i.exec(String(req.headers.range));
  if (ranges === -1 && suffix && Number(suffix[1]) > 0 && file.size > 0) return { start: 0, end: file.size - 1 };
  if (ranges === -1) return 'unsatisfiable';
  if (ranges === undefined || ranges === -2 || ranges.type !== 'bytes' || ranges.length !== 1) return null;
  return { start: ranges[0].start, end: ranges[0].end };
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
