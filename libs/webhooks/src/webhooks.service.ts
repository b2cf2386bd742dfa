import { Injectable } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { AppConfig, InvalidInputError, newId, NotFoundError } from '@app/core';
import { parseWebhookUrl, resolveTarget, TargetRefusedError } from './delivery/target-policy';
import { SecretBox } from './secret-box';
import type { Delivery, Webhook, WebhookEvent } from './webhook';
import { WebhooksRepository } from './webhooks.repository';

/** How many attempts `deliveries` lists (newest first). */
export const DELIVERIES_LISTED = 100;

/** Webhooks one user may have: each job end fans out to all of them. */
export const MAX_WEBHOOKS_PER_USER = 20;

/** A webhook just made, with its signing secret: the only time the secret is shown. */
export interface CreatedWebhook {
  webhook: Webhook;
  secret: string;
}

/** Users' webhooks: made, listed, deleted, and their delivery log, each for its owner only. */
@Injectable()
export class WebhooksService {
  constructor(
    private readonly webhooks: WebhooksRepository,
    private readonly box: SecretBox,
    private readonly config: AppConfig,
  ) {}

  /**
   * Checks the URL (shape, and where its host resolves now: a private target is refused unless
   * WEBHOOK_ALLOW_PRIVATE; the worker checks again at each delivery), then stores the webhook with
   * a new secret, `whsec_` + base64 of 32 random bytes (the Standard Webhooks form).
   */
  async create(userId: string, rawUrl: string, events: readonly WebhookEvent[]): Promise<CreatedWebhook> {
    if ((await this.webhooks.listOwned(userId)).length >= MAX_WEBHOOKS_PER_USER) {
      throw new InvalidInputError(`You have ${MAX_WEBHOOKS_PER_USER} webhooks, the most one account may have: delete one first`);
    }
    try {
      await resolveTarget(parseWebhookUrl(rawUrl), this.config.webhooks.allowPrivate);
    } catch (error) {
      if (error instanceof TargetRefusedError) throw new InvalidInputError(error.message);
      throw error;
    }
    const id = newId();
    const secret = `whsec_${randomBytes(32).toString('base64')}`;
    const webhook: Webhook = {
      id,
      userId,
      url: rawUrl,
      events: [...new Set(events)],
      sealedSecret: this.box.seal(id, secret),
      createdAt: new Date(),
    };
    await this.webhooks.create(webhook);
    return { webhook, secret };
  }

  list(userId: string): Promise<Webhook[]> {
    return this.webhooks.listOwned(userId);
  }

  async remove(userId: string, id: string): Promise<void> {
    if (!(await this.webhooks.deleteOwned(id, userId))) throw new NotFoundError('Webhook not found');
  }

  async deliveries(userId: string, id: string): Promise<Delivery[]> {
    const webhook = await this.webhooks.findOwned(id, userId);
    if (!webhook) throw new NotFoundError('Webhook not found');
    return this.webhooks.listDeliveries(webhook.id, DELIVERIES_LISTED);
  }
}
