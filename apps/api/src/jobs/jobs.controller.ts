import { Controller, Delete, Get, HttpCode, Param, Post, Query, Req, UseGuards } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiConflictResponse,
  ApiForbiddenResponse,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiTags,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import type { Request } from 'express';
import { AuthUser, CurrentUser, JwtAuthGuard, RequiresScope } from '@app/auth';
import { API_KEY_SECURITY } from '../http/api-key-security';
import { JobsService } from '@app/jobs';
import { ErrorDto } from '../http/error.dto';
import { JobDto, JobPageDto, ListJobsQueryDto } from './job.dto';
import { JobViewMapper } from './job-view.mapper';

@ApiTags('jobs')
@ApiBearerAuth()
@ApiBearerAuth(API_KEY_SECURITY)
@ApiUnauthorizedResponse({ type: ErrorDto })
@ApiForbiddenResponse({ type: ErrorDto, description: 'An API key without the scope of the route (`read`, `upload` for retry, `delete`)' })
@UseGuards(JwtAuthGuard)
@Controller('jobs')
export class JobsController {
  constructor(
    private readonly jobs: JobsService,
    private readonly views: JobViewMapper,
  ) {}

  @Get()
  @ApiOperation({ summary: "The caller's jobs, newest first, a page at a time" })
  @ApiOkResponse({ type: JobPageDto })
  @ApiBadRequestResponse({ type: ErrorDto })
  async list(@CurrentUser() user: AuthUser, @Query() query: ListJobsQueryDto): Promise<JobPageDto> {
    const page = await this.jobs.list(user.id, query);
    return { items: page.items.map((job) => this.views.toView(job)), nextCursor: page.nextCursor };
  }

  @Get(':id')
  @ApiOperation({ summary: 'One job' })
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiOkResponse({ type: JobDto })
  @ApiNotFoundResponse({ type: ErrorDto, description: "No such job, or someone else's" })
  async get(@CurrentUser() user: AuthUser, @Param('id') id: string): Promise<JobDto> {
    return this.views.toView(await this.jobs.get(user.id, id));
  }

  @Post(':id/retry')
  @RequiresScope('upload')
  @HttpCode(202)
  @ApiOperation({ summary: 'Queue a failed job again' })
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiAcceptedResponse({ type: JobDto })
  @ApiNotFoundResponse({ type: ErrorDto })
  @ApiConflictResponse({ type: ErrorDto, description: 'The job is not failed' })
  async retry(@CurrentUser() user: AuthUser, @Param('id') id: string, @Req() req: Request): Promise<JobDto> {
    return this.views.toView(await this.jobs.retry(user.id, id, requestIdOf(req)));
  }

  @Delete(':id')
  @RequiresScope('delete')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a job with its original file and thumbnail' })
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiNoContentResponse()
  @ApiNotFoundResponse({ type: ErrorDto })
  async delete(@CurrentUser() user: AuthUser, @Param('id') id: string): Promise<void> {
    await this.jobs.delete(user.id, id);
  }
}

/** The request id pino-http gave this request (from X-Request-Id or generated). */
export function requestIdOf(req: Request): string | null {
  const id = (req as Request & { id?: unknown }).id;
  return typeof id === 'string' ? id : null;
}
