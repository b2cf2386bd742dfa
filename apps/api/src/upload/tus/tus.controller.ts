import { Controller, Delete, Head, Options, Param, Patch, Post, Req, Res, UseGuards } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiConflictResponse,
  ApiExtraModels,
  ApiHeader,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiPayloadTooLargeResponse,
  ApiProperty,
  ApiPropertyOptional,
  ApiResponse,
  ApiTags,
  ApiTooManyRequestsResponse,
  ApiUnauthorizedResponse,
  getSchemaPath,
} from '@nestjs/swagger';
import { SkipThrottle } from '@nestjs/throttler';
import type { Request, Response } from 'express';
import { AuthUser, CurrentUser, JwtAuthGuard, RequiresScope } from '@app/auth';
import { InvalidInputError } from '@app/core';
import { REJECTION_CODES, RejectionCode } from '@app/shared';
import { ErrorDto } from '../../http/error.dto';
import { ApiKeyAccess } from '../../http/api-key-security';
import { RateLimitGuard } from '../../http/rate-limit';
import { requestIdOf } from '../../http/request-id';
import { JOB_ID_HEADER, TUS_ID, TusUploads } from './tus-uploads.service';

/** A refused file: the api's error shape and the multipart route's `Rejected` in one body. */
export class TusRejectedDto extends ErrorDto {
  @ApiProperty({ example: 'notes.txt' }) originalFilename!: string;
  @ApiProperty({ enum: REJECTION_CODES }) code!: RejectionCode;
  @ApiPropertyOptional({ format: 'uuid', description: '`duplicate`: your job that already has this content' }) existingJobId?: string;
}

const TUS_RESUMABLE = {
  name: 'Tus-Resumable',
  required: true,
  description: 'The tus version: `1.0.0`',
  schema: { type: 'string', enum: ['1.0.0'] },
};
const RESUMABLE_HEADER = { 'Tus-Resumable': { description: '`1.0.0`', schema: { type: 'string' } } };
const OFFSET_HEADER = { 'Upload-Offset': { description: 'Bytes the server has', schema: { type: 'integer' } } };
const EXPIRES_HEADER = {
  'Upload-Expires': { description: 'When the unfinished upload is removed (TUS_EXPIRY after creation)', schema: { type: 'string' } },
};
const REFUSED = {
  description: 'The file is refused (same rules as `POST /api/upload`); the upload is removed',
  schema: { $ref: getSchemaPath(TusRejectedDto) },
};

/**
 * tus 1.0 resumable uploads (https://tus.io/protocols/resumable-upload): creation, offset,
 * append, termination. Authentication and ownership are checked here, the protocol is
 * `@tus/server`'s (a maintained implementation of every header and status of the protocol, with a
 * file store whose state survives restarts), the intake rules are TusUploads'.
 */
@ApiTags('uploads')
@ApiExtraModels(TusRejectedDto)
@Controller('uploads')
export class TusController {
  constructor(private readonly tus: TusUploads) {}

  @Options()
  @ApiOperation({
    summary: 'tus discovery: versions, extensions and the largest file accepted',
    description: 'No sign-in needed (browsers send OPTIONS without credentials).',
  })
  @ApiNoContentResponse({
    description: 'What the server supports',
    headers: {
      'Tus-Version': { description: '`1.0.0`', schema: { type: 'string' } },
      'Tus-Extension': { description: '`creation,creation-with-upload,termination,expiration`…', schema: { type: 'string' } },
      'Tus-Max-Size': { description: 'MAX_UPLOAD_BYTES', schema: { type: 'integer' } },
    },
  })
  async discover(@Req() req: Request, @Res() res: Response): Promise<void> {
    await this.tus.handle(req, res, null, requestIdOf(req));
  }

  @Post()
  @UseGuards(JwtAuthGuard, RateLimitGuard)
  @RequiresScope('upload')
  @SkipThrottle({ auth: true, archives: true })
  @ApiBearerAuth()
  @ApiKeyAccess('upload')
  @ApiOperation({
    summary: 'Create a resumable upload (tus creation)',
    description:
      'Send `Upload-Length` (deferred lengths are refused) and `Upload-Metadata` with base64 values: `filename` and `filetype` ' +
      '(the name and declared type, checked against the content as on `POST /api/upload`). The body may carry the first bytes ' +
      '(`Content-Type: application/offset+octet-stream`, creation-with-upload). Then PATCH the bytes to `Location`.',
  })
  @ApiHeader(TUS_RESUMABLE)
  @ApiHeader({ name: 'Upload-Length', required: true, description: 'Size of the whole file in bytes', schema: { type: 'integer' } })
  @ApiHeader({
    name: 'Upload-Metadata',
    required: false,
    description:
      '`filename <base64>,filetype <base64>`, optionally `position <base64>` (`centre`, `attention` or `entropy`: the crop of the square renditions)',
    schema: { type: 'string' },
  })
  @ApiResponse({
    status: 201,
    description: 'Created',
    headers: {
      Location: { description: 'The upload URL, `/api/uploads/<id>`', schema: { type: 'string' } },
      ...RESUMABLE_HEADER,
      ...EXPIRES_HEADER,
    },
  })
  @ApiResponse({ status: 400, type: ErrorDto, description: 'Missing or invalid tus headers, no Upload-Length, or an unknown position' })
  @ApiPayloadTooLargeResponse({
    ...REFUSED,
    description:
      'Upload-Length is over MAX_UPLOAD_BYTES (`too_large`), or does not fit in the quota with the unfinished uploads (`quota_exceeded`)',
  })
  @ApiResponse({ status: 412, description: 'Tus-Resumable missing or not 1.0.0' })
  @ApiResponse({ status: 415, ...REFUSED })
  @ApiResponse({ status: 422, ...REFUSED })
  @ApiUnauthorizedResponse({ type: ErrorDto })
  @ApiTooManyRequestsResponse({
    type: ErrorDto,
    description: 'Too many uploads by this user in the last minute (see Retry-After), or 50 unfinished uploads already',
  })
  async create(@CurrentUser() user: AuthUser, @Req() req: Request, @Res() res: Response): Promise<void> {
    // tus answers a deferred length it does not offer with 501; it is the request that is at fault.
    if (req.headers['upload-defer-length'] !== undefined) {
      throw new InvalidInputError('Upload-Length is required (deferred lengths are not accepted)');
    }
    await this.tus.handle(req, res, user.id, requestIdOf(req));
  }

  @Head(':id')
  @UseGuards(JwtAuthGuard)
  @RequiresScope('upload')
  @ApiBearerAuth()
  @ApiKeyAccess('upload')
  @ApiOperation({ summary: 'How many bytes of the upload the server has (tus offset), to resume from there' })
  @ApiParam({ name: 'id', description: 'The last segment of `Location`' })
  @ApiHeader(TUS_RESUMABLE)
  @ApiOkResponse({
    description: 'The upload is there',
    headers: {
      ...OFFSET_HEADER,
      'Upload-Length': { description: 'Size of the whole file', schema: { type: 'integer' } },
      'Upload-Metadata': { description: 'As sent at creation', schema: { type: 'string' } },
      'Cache-Control': { description: '`no-store`', schema: { type: 'string' } },
      ...RESUMABLE_HEADER,
    },
  })
  @ApiNotFoundResponse({ type: ErrorDto, description: 'No such upload, another user’s, finished, expired or terminated' })
  @ApiUnauthorizedResponse({ type: ErrorDto })
  async offset(@CurrentUser() user: AuthUser, @Param('id') id: string, @Req() req: Request, @Res() res: Response): Promise<void> {
    await this.owned(id, user);
    await this.tus.handle(req, res, user.id, requestIdOf(req), id);
  }

  @Patch(':id')
  @UseGuards(JwtAuthGuard)
  @RequiresScope('upload')
  @ApiBearerAuth()
  @ApiKeyAccess('upload')
  @ApiOperation({
    summary: 'Append bytes at Upload-Offset (tus core)',
    description:
      'Body: the bytes, `Content-Type: application/offset+octet-stream`. The first bytes are checked against the name and type ' +
      '(a refused file answers 415/422 and the upload is removed). The PATCH that brings the last byte creates the job ' +
      'exactly as `POST /api/upload` does and answers `Thumbs-Job-Id`, or refuses it by the same rules ' +
      '(`duplicate`: 422, `quota_exceeded`: 413, with the `Rejected` body).',
  })
  @ApiParam({ name: 'id', description: 'The last segment of `Location`' })
  @ApiHeader(TUS_RESUMABLE)
  @ApiHeader({
    name: 'Upload-Offset',
    required: true,
    description: 'Where these bytes go: the offset HEAD reported',
    schema: { type: 'integer' },
  })
  @ApiHeader({ name: 'Content-Type', required: true, schema: { type: 'string', enum: ['application/offset+octet-stream'] } })
  @ApiNoContentResponse({
    description: 'Bytes stored; on the last one the job is created',
    headers: {
      ...OFFSET_HEADER,
      [JOB_ID_HEADER]: {
        description: 'The job this upload became (only on the PATCH that completes it)',
        schema: { type: 'string', format: 'uuid' },
      },
      ...EXPIRES_HEADER,
      ...RESUMABLE_HEADER,
    },
  })
  @ApiConflictResponse({ type: ErrorDto, description: 'Upload-Offset is not the server’s offset (HEAD, then resume from there)' })
  @ApiNotFoundResponse({ type: ErrorDto, description: 'No such upload, another user’s, finished, expired or terminated' })
  @ApiPayloadTooLargeResponse({ type: ErrorDto, description: 'More bytes than Upload-Length' })
  @ApiResponse({ status: 415, ...REFUSED })
  @ApiResponse({ status: 422, ...REFUSED })
  @ApiResponse({ status: 507, type: ErrorDto, description: "The server's storage is full: the bytes of this PATCH were not kept" })
  @ApiUnauthorizedResponse({ type: ErrorDto })
  async append(@CurrentUser() user: AuthUser, @Param('id') id: string, @Req() req: Request, @Res() res: Response): Promise<void> {
    await this.owned(id, user);
    await this.tus.handle(req, res, user.id, requestIdOf(req), id);
  }

  @Delete(':id')
  @UseGuards(JwtAuthGuard)
  @RequiresScope('upload')
  @ApiBearerAuth()
  @ApiKeyAccess('upload')
  @ApiOperation({ summary: 'Abandon an unfinished upload and free what it stored (tus termination)' })
  @ApiParam({ name: 'id', description: 'The last segment of `Location`' })
  @ApiHeader(TUS_RESUMABLE)
  @ApiNoContentResponse({ description: 'Removed', headers: RESUMABLE_HEADER })
  @ApiNotFoundResponse({ type: ErrorDto, description: 'No such upload, another user’s, finished, expired or terminated' })
  @ApiUnauthorizedResponse({ type: ErrorDto })
  async terminate(@CurrentUser() user: AuthUser, @Param('id') id: string, @Req() req: Request, @Res() res: Response): Promise<void> {
    await this.owned(id, user);
    await this.tus.handle(req, res, user.id, requestIdOf(req), id);
  }

  private async owned(id: string, user: AuthUser): Promise<void> {
    if (!TUS_ID.test(id)) throw new InvalidInputError('Not an upload id');
    await this.tus.assertOwner(id, user.id);
  }
}
