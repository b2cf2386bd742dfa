import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query, Req, UseGuards } from '@nestjs/common';
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
import { assertScope, AuthUser, CurrentUser, JwtAuthGuard, RequiresScope, ScopeCheckedByHandler } from '@app/auth';
import { JobLibrary, JobsService } from '@app/jobs';
import { API_KEY_SECURITY } from '../http/api-key-security';
import { ErrorDto } from '../http/error.dto';
import { requestIdOf } from '../http/request-id';
import { BulkRequestDto, BulkResultDto, DeleteJobQueryDto, JobDto, JobPageDto, JobStatsDto, ListJobsQueryDto } from './job.dto';
import { JobViewMapper } from '@app/jobs';

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
    private readonly library: JobLibrary,
  ) {}

  @Get()
  @ApiOperation({ summary: "The caller's jobs (or their trash): filtered by status, type and name, in the chosen order, a page at a time" })
  @ApiOkResponse({ type: JobPageDto })
  @ApiBadRequestResponse({ type: ErrorDto })
  async list(@CurrentUser() user: AuthUser, @Query() query: ListJobsQueryDto): Promise<JobPageDto> {
    const page = await this.jobs.list(user.id, query);
    return { items: page.items.map((job) => this.views.toView(job)), nextCursor: page.nextCursor };
  }

  // Before `:id`, which would take "stats" for an id.
  @Get('stats')
  @ApiOperation({ summary: "Counts of the caller's library by status and type, bytes kept, the quota and the trash" })
  @ApiOkResponse({ type: JobStatsDto })
  stats(@CurrentUser() user: AuthUser): Promise<JobStatsDto> {
    return this.library.stats(user.id);
  }

  @Post('bulk')
  @HttpCode(200)
  @ScopeCheckedByHandler()
  @ApiOperation({
    summary: 'One action on many of the caller’s jobs: delete (to the trash), restore, retry',
    description: "Each id is acted on or skipped with a reason; others' and missing ids are skipped as not_found.",
  })
  @ApiOkResponse({ type: BulkResultDto })
  @ApiBadRequestResponse({ type: ErrorDto })
  bulk(@CurrentUser() user: AuthUser, @Body() body: BulkRequestDto, @Req() req: Request): Promise<BulkResultDto> {
    // An API key needs `upload` to retry (as POST /:id/retry does) and `delete` to delete or restore.
    assertScope(user, body.action === 'retry' ? 'upload' : 'delete');
    return this.library.bulk(user.id, body.action, body.ids, requestIdOf(req));
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

  @Post(':id/restore')
  @HttpCode(200)
  @RequiresScope('delete')
  @ApiOperation({ summary: 'Take a job out of the trash' })
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiOkResponse({ type: JobDto })
  @ApiNotFoundResponse({ type: ErrorDto })
  async restore(@CurrentUser() user: AuthUser, @Param('id') id: string): Promise<JobDto> {
    return this.views.toView(await this.jobs.restore(user.id, id));
  }

  @Delete(':id')
  @RequiresScope('delete')
  @HttpCode(204)
  @ApiOperation({
    summary: 'Move a job to the trash (restorable until TRASH_TTL), or with permanent=true delete it and its files at once',
    description: 'A job still waiting or running when trashed goes on and finishes in the trash.',
  })
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiNoContentResponse()
  @ApiBadRequestResponse({ type: ErrorDto })
  @ApiNotFoundResponse({ type: ErrorDto })
  async delete(@CurrentUser() user: AuthUser, @Param('id') id: string, @Query() query: DeleteJobQueryDto): Promise<void> {
    if (query.permanent) await this.jobs.delete(user.id, id);
    else await this.jobs.trash(user.id, id);
  }
}
