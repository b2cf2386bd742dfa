import { Controller, Post, Req, UseGuards, UseInterceptors } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiBody,
  ApiConflictResponse,
  ApiConsumes,
  ApiForbiddenResponse,
  ApiCreatedResponse,
  ApiHeader,
  ApiOperation,
  ApiPayloadTooLargeResponse,
  ApiRequestTimeoutResponse,
  ApiResponse,
  ApiServiceUnavailableResponse,
  ApiTags,
  ApiTooManyRequestsResponse,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import type { Request } from 'express';
import { SkipThrottle } from '@nestjs/throttler';
import { AuthUser, CurrentUser, JwtAuthGuard, RequiresScope } from '@app/auth';
import { API_KEY_SECURITY } from '../http/api-key-security';
import { RateLimitGuard } from '../http/rate-limit';
import { ApiMetrics } from '../observability/api-metrics';
import { InvalidInputError, PayloadTooLargeError } from '@app/core';
import { JobsService, parseAllowDuplicates, parsePosition, StoredUpload } from '@app/jobs';
import type { Rejected } from '@app/shared';
import { ErrorDto } from '../http/error.dto';
import { UploadRefusedDto, UploadRequestDto, UploadResultDto } from '../jobs/job.dto';
import { JobViewMapper } from '@app/jobs';
import { requestIdOf } from '../http/request-id';
import { IdempotencyInterceptor } from './idempotency.interceptor';
import type { ReceivedFile } from './intake-storage.engine';
import { UploadInterceptor } from './upload.interceptor';

@ApiTags('upload')
@ApiBearerAuth()
@ApiBearerAuth(API_KEY_SECURITY)
@Controller('upload')
export class UploadController {
  constructor(
    private readonly jobs: JobsService,
    private readonly views: JobViewMapper,
    private readonly metrics: ApiMetrics,
  ) {}

  @Post()
  @UseGuards(JwtAuthGuard, RateLimitGuard)
  @RequiresScope('upload')
  @ApiForbiddenResponse({ type: ErrorDto, description: 'An API key without the `upload` scope' })
  @SkipThrottle({ auth: true, archives: true })
  @UseInterceptors(IdempotencyInterceptor, UploadInterceptor)
  @ApiOperation({
    summary: 'Upload images and videos; each accepted file becomes a queued job',
    description:
      'Files are recognised by their content (JPEG, PNG, GIF, WebP; MP4, MOV, AVI, WebM), which must match the file name and declared type. ' +
      'Files that are not accepted are listed in `rejected` with a reason; the others go on. ' +
      'Content you already have is rejected as `duplicate` (with `existingJobId`) unless the field `allowDuplicates=true` is sent; ' +
      'past `USER_QUOTA_BYTES` files are rejected as `quota_exceeded`. ' +
      'The optional field `position` (centre, attention, entropy; default THUMBNAIL_POSITION) sets where the square renditions are cropped.',
  })
  @ApiConsumes('multipart/form-data')
  @ApiBody({ type: UploadRequestDto })
  @ApiHeader({
    name: 'Idempotency-Key',
    required: false,
    description: 'Sending the same key again returns the first response and creates no jobs',
  })
  @ApiCreatedResponse({ type: UploadResultDto })
  @ApiBadRequestResponse({
    type: UploadRefusedDto,
    description: 'No file was acceptable (`rejected` lists why), or `position` is not one of centre, attention, entropy',
  })
  @ApiPayloadTooLargeResponse({ type: UploadRefusedDto, description: 'Too many files, or every file too large (`rejected` lists them)' })
  @ApiRequestTimeoutResponse({
    type: ErrorDto,
    description: 'The body brought no byte for UPLOAD_IDLE_TIMEOUT_MS (default 30 s); nothing of it is kept',
  })
  @ApiConflictResponse({ type: ErrorDto, description: 'The same Idempotency-Key is still being processed' })
  @ApiUnauthorizedResponse({ type: ErrorDto })
  @ApiTooManyRequestsResponse({ type: ErrorDto, description: 'Too many uploads by this user in the last minute; see Retry-After' })
  @ApiServiceUnavailableResponse({ type: ErrorDto, description: 'The database is unavailable' })
  @ApiResponse({ status: 507, type: ErrorDto, description: "The server's storage is full: nothing was kept (see Retry-After)" })
  async upload(@CurrentUser() user: AuthUser, @Req() req: Request): Promise<UploadResultDto> {
    const files = (req.files ?? []) as ReceivedFile[];
    if (files.length === 0) throw new InvalidInputError('No files received: send them in the multipart field "files".');
    const received = files.flatMap((file): StoredUpload[] => (file.stored ? [file.stored] : []));
    // Multipart fields may follow the files: checked once everything arrived, and the stored files discarded when it is bad.
    const { position, allowDuplicates } = await this.fieldsOf(req, received);
    const stored = position ? received.map((upload) => ({ ...upload, position })) : received;
    // The last checks (duplicates, quota) happen with the user's other requests settled; what fails them is refused too.
    const accepted = await this.jobs.acceptUploads(user.id, stored, requestIdOf(req), { allowDuplicates });
    const rejected = [...files.flatMap((file): Rejected[] => (file.rejected ? [file.rejected] : [])), ...accepted.rejected];
    rejected.forEach((item) => this.metrics.recordRejection(item.code));
    if (accepted.jobs.length === 0) {
      const message = rejected.length === 1 ? rejected[0].message : 'None of the files can be processed; see `rejected` for why.';
      if (rejected.every((item) => item.code === 'too_large')) throw new PayloadTooLargeError(message, { rejected });
      throw new InvalidInputError(message, { rejected });
    }
    accepted.jobs.forEach((job) => this.metrics.recordUpload(job.fileType, job.fileSize));
    return { jobs: accepted.jobs.map((job) => this.views.toView(job)), rejected };
  }

  /** The form's fields; a bad one discards the stored files and is a 400. */
  private async fieldsOf(req: Request, stored: readonly StoredUpload[]) {
    const fields = req.body as Record<string, unknown> | undefined;
    try {
      return { position: parsePosition(fields?.position), allowDuplicates: parseAllowDuplicates(fields?.allowDuplicates) };
    } catch (error) {
      await this.jobs.discardUploads(stored);
      throw error;
    }
  }
}
