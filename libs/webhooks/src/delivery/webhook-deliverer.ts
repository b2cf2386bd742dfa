import { Injectable, Logger } from '@nestjs/common';
import { Webhook as StandardWebhook } from 'standardwebhooks';
import { AppConfig, newId } from '@app/core';
import { SecretBox } from '../secret-box';
import type { DeliveryStatus } from '../webhook';
import { WebhooksRepository } from '../webhooks.repository';
import { parseWebhookUrl, resolveTarget, TargetRefusedError } from './target-policy';
import type { WebhookDeliveryData } from './webhook-queue';
import { sendWebhook, type SendResult } from './webhook-sender';

/** What became of one attempt: `gone` when the webhook was deleted meanwhile (nothing sent, nothing to retry). */
export type AttemptOutcome = DeliveryStatus | 'gone';

/**
 * One delivery attempt: the message signed as Standard Webhooks (with the `standardwebhooks`
 * reference library, so the format is theirs, not a copy), the target resolved and checked again
 * now (a name may point elsewhere since the webhook was made), one POST, the attempt recorded.
 */
@Injectable()
export class WebhookDeliverer {
  private readonly logger = new Logger(WebhookDeliverer.name);

  constructor(
    private readonly webhooks: WebhooksRepository,
    private readonly box: SecretBox,
    private readonly config: AppConfig,
  ) {}

  async attempt(message: WebhookDeliveryData, attempt: number, now = new Date()): Promise<AttemptOutcome> {
    const webhook = await this.webhooks.findById(message.webhookId);
    if (!webhook) return 'gone';
    const body = JSON.stringify({ type: message.event, timestamp: message.timestamp, data: message.data });
    let result: SendResult;
    let status: DeliveryStatus;
    try {
      const target = await resolveTarget(parseWebhookUrl(webhook.url), this.config.webhooks.allowPrivate);
      const signature = new StandardWebhook(this.box.open(webhook.id, webhook.sealedSecret)).sign(message.messageId, now, body);
      result = await sendWebhook(
        target,
        body,
        { 'webhook-id': message.messageId, 'webhook-timestamp': String(Math.floor(now.getTime() / 1000)), 'webhook-signature': signature },
        this.config.webhooks.timeoutMs,
      );
      status = result.ok ? 'delivered' : 'failed';
    } catch (error) {
      if (!(error instanceof TargetRefusedError)) throw error;
      result = { ok: false, statusCode: null, excerpt: error.message };
      status = error.reason === 'unresolved' ? 'failed' : 'refused';
    }
    await this.webhooks.recordDelivery({
      id: newId(),
      webhookId: webhook.id,
      event: message.event,
      jobId: message.jobId,
      attempt,
      status,
      responseCode: result.statusCode,
      excerpt: result.excerpt,
      at: new Date(),
    });
    if (status !== 'delivered') {
      this.logger.warn(
        { webhookId: webhook.id, messageId: message.messageId, attempt, status, responseCode: result.statusCode },
        'Webhook delivery attempt failed',
      );
    }
    return status;
  }
}
