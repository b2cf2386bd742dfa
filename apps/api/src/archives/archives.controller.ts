import { Body, Controller, Get, HttpCode, Param, Post, Query, Res, UseGuards } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiProduces,
  ApiQuery,
  ApiTags,
  ApiTooManyRequestsResponse,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { SkipThrottle } from '@nestjs/throttler';
import type { Response } from 'express';
import { AuthUser, CurrentUser, JwtAuthGuard, RequiresScope, UrlSigner } from '@app/auth';
import { AppConfig, NotFoundError } from '@app/core';
import { JobArchives } from '@app/jobs';
import { ErrorDto } from '../http/error.dto';
import { ApiKeyAccess } from '../http/api-key-security';
import { RateLimitGuard } from '../http/rate-limit';
import { ArchiveDto, CreateArchiveDto } from './archive.dto';

const FILE_NAME = /^([A-Za-z0-9_-]{22})\.zip$/;

/**
 * Zips of many jobs' thumbnails or originals: `POST` answers a signed, expiring URL (it works in
 * a plain link, without a header) that streams the zip. The signature is UrlSigner's, over the
 * archive's id namespaced as `archive/<id>` (never a job id) and its owner.
 */
@ApiTags('archives')
@Controller('archives')
export class ArchivesController {
  constructor(
    private readonly archives: JobArchives,
    private readonly signer: UrlSigner,
    private readonly config: AppConfig,
  ) {}

  @Post()
  @HttpCode(201)
  // Each archive is kept in Redis for longer than its URL lives: RATE_LIMIT_ARCHIVES a minute per user (per API key for a key).
  @UseGuards(JwtAuthGuard, RateLimitGuard)
  @RequiresScope('read')
  @SkipThrottle({ auth: true, uploads: true })
  @ApiBearerAuth()
  @ApiKeyAccess('read')
  @ApiOperation({
    summary: "A zip of the caller's jobs' thumbnails or originals, as a signed, expiring URL",
    description:
      "Entries are named after the originals (thumbnails with .jpg), de-duplicated (a.jpg, a (2).jpg); others' and missing ids are left out, and jobs without a thumbnail when thumbnails are asked for.",
  })
  @ApiCreatedResponse({ type: ArchiveDto })
  @ApiBadRequestResponse({ type: ErrorDto })
  @ApiUnauthorizedResponse({ type: ErrorDto })
  @ApiTooManyRequestsResponse({
    type: ErrorDto,
    description: 'Too many archives asked for by this user in the last minute; see Retry-After',
  })
  async create(@CurrentUser() user: AuthUser, @Body() body: CreateArchiveDto): Promise<ArchiveDto> {
    // Kept in Redis at least as long as any signature made now can be valid (UrlSigner rounds expiry up by a quarter of the TTL, at least 60 s).
    const ttlSeconds = this.config.auth.signedUrlTtlSeconds;
    const archive = await this.archives.create(user.id, body.ids, body.content, (ttlSeconds + Math.max(60, ttlSeconds / 4) + 60) * 1000);
    const { exp, sig } = this.signer.sign('download', `archive/${archive.id}`, user.id);
    return { url: `/api/archives/${archive.id}.zip?exp=${exp}&sig=${sig}`, expiresAt: new Date(exp * 1000).toISOString() };
  }

  @Get(':filename')
  @ApiOperation({ summary: 'The zip of a signed archive URL (from POST /api/archives)' })
  @ApiParam({ name: 'filename', example: 'q7dHcGB1RrS1r3x2Qm9sXw.zip' })
  @ApiQuery({ name: 'exp', required: true })
  @ApiQuery({ name: 'sig', required: true })
  @ApiProduces('application/zip')
  @ApiOkResponse({ description: 'The zip, streamed' })
  @ApiNotFoundResponse({ type: ErrorDto, description: 'Unknown, expired or badly signed' })
  async download(@Param('filename') filename: string, @Query() query: Record<string, unknown>, @Res() res: Response): Promise<void> {
    const id = FILE_NAME.exec(filename)?.[1];
    const archive = id ? await this.archives.find(id) : null;
    if (!archive || !this.signer.verify('download', `archive/${archive.id}`, archive.userId, query.exp, query.sig)) {
      throw new NotFoundError('Not found');
    }
    res.status(200);
    res.setHeader('Content-Type', 'application/zip');
    res.setHeader('Content-Disposition', `attachment; filename="${archive.content}-${new Date().toISOString().slice(0, 10)}.zip"`);
    res.setHeader('Cache-Control', 'private, no-store');
    res.setHeader('X-Content-Type-Options', 'nosniff');
    try {
      await this.archives.write(archive, res);
    } catch {
      // Headers are out: all that is left is to cut the download short, so the client sees it fail.
      res.destroy();
    }
  }
}
