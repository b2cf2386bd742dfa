import { ApiProperty } from '@nestjs/swagger';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsIn, IsString, MaxLength } from 'class-validator';
import { DELIVERY_STATUSES, WEBHOOK_EVENTS, type Delivery, type DeliveryStatus, type Webhook, type WebhookEvent } from '@app/webhooks';
import { JobDto } from '../jobs/job.dto';

export class CreateWebhookDto {
  @ApiProperty({
    example: 'https://example.com/hooks/thumbs',
    maxLength: 2048,
    description:
      'http or https, no credentials; refused when its host resolves to a loopback, private or link-local address (unless WEBHOOK_ALLOW_PRIVATE)',
  })
  @IsString()
  @MaxLength(2048)
  url!: string;

  @ApiProperty({ enum: WEBHOOK_EVENTS, isArray: true, example: ['job.completed', 'job.failed'] })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(WEBHOOK_EVENTS.length * 4)
  @IsIn(WEBHOOK_EVENTS, { each: true, message: `each value in events must be one of ${WEBHOOK_EVENTS.join(', ')}` })
  events!: WebhookEvent[];
}

export class WebhookDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ example: 'https://example.com/hooks/thumbs' }) url!: string;
  @ApiProperty({ enum: WEBHOOK_EVENTS, isArray: true }) events!: WebhookEvent[];
  @ApiProperty({ format: 'date-time' }) createdAt!: string;

  static of(webhook: Webhook): WebhookDto {
    return { id: webhook.id, url: webhook.url, events: webhook.events, createdAt: webhook.createdAt.toISOString() };
  }
}

export class CreatedWebhookDto extends WebhookDto {
  @ApiProperty({
    example: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw4k5Mm7DiBqQ=',
    description: 'Signing secret (Standard Webhooks: `whsec_` + base64 of 32 bytes). Shown this once; keep it to verify deliveries.',
  })
  secret!: string;
}

export class WebhookListDto {
  @ApiProperty({ type: [WebhookDto] }) items!: WebhookDto[];
}

export class DeliveryDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ enum: WEBHOOK_EVENTS }) event!: WebhookEvent;
  @ApiProperty({ format: 'uuid' }) jobId!: string;
  @ApiProperty({ example: 1, description: '1 for the first try of this event' }) attempt!: number;
  @ApiProperty({
    enum: DELIVERY_STATUSES,
    description:
      '`delivered`: a 2xx answer; `failed`: another answer or none (retried); `refused`: the URL now leads to a forbidden address',
  })
  status!: DeliveryStatus;
  @ApiProperty({ type: Number, nullable: true, example: 200, description: 'null when no answer came' }) responseCode!: number | null;
  @ApiProperty({ format: 'date-time' }) at!: string;

  static of(delivery: Delivery): DeliveryDto {
    return {
      id: delivery.id,
      event: delivery.event,
      jobId: delivery.jobId,
      attempt: delivery.attempt,
      status: delivery.status,
      responseCode: delivery.responseCode,
      at: delivery.at.toISOString(),
    };
  }
}

export class DeliveryListDto {
  @ApiProperty({ type: [DeliveryDto], description: 'The latest 100 attempts, newest first' }) items!: DeliveryDto[];
}

/** What a receiver gets (documented here; never sent by the api itself). */
export class WebhookPayloadDto {
  @ApiProperty({ enum: WEBHOOK_EVENTS }) type!: WebhookEvent;
  @ApiProperty({ format: 'date-time', description: 'When the job ended' }) timestamp!: string;
  @ApiProperty({ type: JobDto, description: 'The job as `GET /api/jobs/:id` shows it then' }) data!: JobDto;
}
