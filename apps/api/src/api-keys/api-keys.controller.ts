import { Body, Controller, Delete, Get, HttpCode, Param, Post, UseGuards } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiForbiddenResponse,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiTags,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { ApiKeysService, AuthUser, CurrentUser, JwtAuthGuard, NoApiKeys } from '@app/auth';
import { ErrorDto } from '../http/error.dto';
import { ApiKeyAccess } from '../http/api-key-security';
import { ApiKeyDto, CreatedApiKeyDto, CreateApiKeyDto } from './api-key.dto';

/**
 * The signed-in user's API keys. Made and revoked with a password sign-in only (a leaked key
 * cannot mint or remove others); listed like any GET, with a `read` key too (never the keys).
 */
@ApiTags('api-keys')
@ApiBearerAuth()
@ApiUnauthorizedResponse({ type: ErrorDto })
@UseGuards(JwtAuthGuard)
@Controller('api-keys')
export class ApiKeysController {
  constructor(private readonly keys: ApiKeysService) {}

  @Post()
  @NoApiKeys()
  @ApiForbiddenResponse({ type: ErrorDto, description: 'Called with an API key: keys are made from a password sign-in only' })
  @ApiOperation({ summary: 'Make an API key', description: 'The answer holds the key, shown this once; only its HMAC is stored.' })
  @ApiCreatedResponse({ type: CreatedApiKeyDto })
  @ApiBadRequestResponse({ type: ErrorDto, description: 'Missing name, unknown or no scopes, or too many keys' })
  create(@CurrentUser() user: AuthUser, @Body() body: CreateApiKeyDto): Promise<CreatedApiKeyDto> {
    return this.keys.create(user.id, body.name, body.scopes);
  }

  @Get()
  @ApiKeyAccess('read')
  @ApiOperation({ summary: "The caller's API keys, newest first (never the keys themselves)" })
  @ApiOkResponse({ type: ApiKeyDto, isArray: true })
  list(@CurrentUser() user: AuthUser): Promise<ApiKeyDto[]> {
    return this.keys.list(user.id);
  }

  @Delete(':id')
  @NoApiKeys()
  @ApiForbiddenResponse({ type: ErrorDto, description: 'Called with an API key: keys are revoked from a password sign-in only' })
  @HttpCode(204)
  @ApiOperation({ summary: 'Revoke an API key (effective at once, also for sockets opened with it)' })
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiNoContentResponse()
  @ApiNotFoundResponse({ type: ErrorDto, description: "No such key, or someone else's" })
  async revoke(@CurrentUser() user: AuthUser, @Param('id') id: string): Promise<void> {
    await this.keys.revoke(user.id, id);
  }
}
