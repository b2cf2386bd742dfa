import { Body, Controller, Delete, Get, HttpCode, Param, Post, UseGuards } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiExtraModels,
  ApiForbiddenResponse,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiTags,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { AuthUser, CurrentUser, JwtAuthGuard, NoApiKeys, RequiresScope } from '@app/auth';
import { WebhooksService } from '@app/webhooks';
import { ErrorDto } from '../http/error.dto';
import { ApiKeyAccess } from '../http/api-key-security';
import {
  CreatedWebhookDto,
  CreateWebhookDto,
  DeliveryDto,
  DeliveryListDto,
  WebhookDto,
  WebhookListDto,
  WebhookPayloadDto,
} from './webhook.dto';

const PAYLOAD = [
  'When one of your jobs ends, each webhook subscribed to the event gets a `POST` of JSON `WebhookPayloadDto`',
  '(`{ type, timestamp, data: Job }`) signed as Standard Webhooks: headers `webhook-id` (the same on every retry),',
  '`webhook-timestamp` and `webhook-signature` (`v1,` + base64 HMAC-SHA256 of `id.timestamp.body` keyed with the',
  "secret's bytes). A non-2xx answer or none within 10 s is retried with exponential backoff for 24 h; redirects are not followed.",
].join(' ');

@ApiTags('webhooks')
@ApiBearerAuth()
@ApiUnauthorizedResponse({ type: ErrorDto })
@ApiExtraModels(WebhookPayloadDto)
@UseGuards(JwtAuthGuard)
// Reading the webhooks and their deliveries is a GET like any other (`read`). Subscribing and
// deleting are not in any key scope: a subscription outlives the key that made it, so a leaked
// read-only key could otherwise keep every job's events flowing to its holder after being revoked.
@RequiresScope('read')
@Controller('webhooks')
export class WebhooksController {
  constructor(private readonly webhooks: WebhooksService) {}

  @Post()
  @NoApiKeys()
  @ApiOperation({ summary: 'Subscribe a URL to job events', description: PAYLOAD })
  @ApiForbiddenResponse({ type: ErrorDto, description: 'An API key: subscribing needs a password sign-in' })
  @ApiCreatedResponse({ type: CreatedWebhookDto, description: 'The webhook, with its signing secret shown this once' })
  @ApiBadRequestResponse({
    type: ErrorDto,
    description:
      'Invalid fields, a URL that is not http(s), has credentials, a port under 1024 other than 80 and 443, or resolves to a private address, or 20 webhooks already',
  })
  async create(@CurrentUser() user: AuthUser, @Body() body: CreateWebhookDto): Promise<CreatedWebhookDto> {
    const { webhook, secret } = await this.webhooks.create(user.id, body.url, body.events);
    return { ...WebhookDto.of(webhook), secret };
  }

  @Get()
  @ApiKeyAccess('read')
  @ApiOperation({ summary: "The caller's webhooks (without secrets), oldest first" })
  @ApiOkResponse({ type: WebhookListDto })
  async list(@CurrentUser() user: AuthUser): Promise<WebhookListDto> {
    return { items: (await this.webhooks.list(user.id)).map((webhook) => WebhookDto.of(webhook)) };
  }

  @Delete(':id')
  @NoApiKeys()
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a webhook and its delivery log; deliveries still queued are dropped' })
  @ApiForbiddenResponse({ type: ErrorDto, description: 'An API key: deleting needs a password sign-in' })
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiNoContentResponse()
  @ApiNotFoundResponse({ type: ErrorDto, description: "No such webhook, or someone else's" })
  async remove(@CurrentUser() user: AuthUser, @Param('id') id: string): Promise<void> {
    await this.webhooks.remove(user.id, id);
  }

  @Get(':id/deliveries')
  @ApiKeyAccess('read')
  @ApiOperation({ summary: "A webhook's delivery attempts, newest first (the latest 100)" })
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiOkResponse({ type: DeliveryListDto })
  @ApiNotFoundResponse({ type: ErrorDto, description: "No such webhook, or someone else's" })
  async deliveries(@CurrentUser() user: AuthUser, @Param('id') id: string): Promise<DeliveryListDto> {
    return { items: (await this.webhooks.deliveries(user.id, id)).map((delivery) => DeliveryDto.of(delivery)) };
  }
}
