import { Injectable, OnModuleInit } from '@nestjs/common';
import { InjectModel, Prop, Schema, SchemaFactory } from '@nestjs/mongoose';
import { Model } from 'mongoose';
import { MongoDatabase } from '@app/core';
import { DELIVERY_STATUSES, WEBHOOK_EVENTS, type Delivery, type DeliveryStatus, type Webhook, type WebhookEvent } from '../webhook';
import { WebhooksRepository } from '../webhooks.repository';
import { WEBHOOKS_MONGO_MIGRATIONS } from './migrations';

@Schema({ collection: 'webhooks', versionKey: false })
export class WebhookDocument {
  @Prop({ type: String, required: true })
  _id!: string;

  @Prop({ type: String, required: true, index: true })
  userId!: string;

  @Prop({ type: String, required: true })
  url!: string;

  @Prop({ type: [String], required: true, enum: WEBHOOK_EVENTS })
  events!: WebhookEvent[];

  @Prop({ type: String, required: true })
  sealedSecret!: string;

  @Prop({ type: Date, required: true })
  createdAt!: Date;
}

export const WebhookSchema = SchemaFactory.createForClass(WebhookDocument);

@Schema({ collection: 'webhook_deliveries', versionKey: false })
export class WebhookDeliveryDocument {
  @Prop({ type: String, required: true })
  _id!: string;

  @Prop({ type: String, required: true })
  webhookId!: string;

  @Prop({ type: String, required: true, enum: WEBHOOK_EVENTS })
  event!: WebhookEvent;

  @Prop({ type: String, required: true })
  jobId!: string;

  @Prop({ type: Number, required: true })
  attempt!: number;

  @Prop({ type: String, required: true, enum: DELIVERY_STATUSES })
  status!: DeliveryStatus;

  @Prop({ type: Number, default: null })
  responseCode!: number | null;

  @Prop({ type: String, default: null })
  excerpt!: string | null;

  @Prop({ type: Date, required: true })
  at!: Date;
}

export const WebhookDeliverySchema = SchemaFactory.createForClass(WebhookDeliveryDocument);
WebhookDeliverySchema.index({ webhookId: 1, at: -1, _id: -1 });

@Injectable()
export class MongoWebhooksRepository extends WebhooksRepository implements OnModuleInit {
  constructor(
    @InjectModel(WebhookDocument.name) private readonly webhooks: Model<WebhookDocument>,
    @InjectModel(WebhookDeliveryDocument.name) private readonly deliveries: Model<WebhookDeliveryDocument>,
    private readonly mongo: MongoDatabase,
  ) {
    super();
  }

  async onModuleInit(): Promise<void> {
    await this.mongo.migrate({ lib: 'webhooks', models: [this.webhooks, this.deliveries], migrations: WEBHOOKS_MONGO_MIGRATIONS });
  }

  async create(webhook: Webhook): Promise<void> {
    await this.mongo.guard(async () => {
      await this.webhooks.create({
        _id: webhook.id,
        userId: webhook.userId,
        url: webhook.url,
        events: webhook.events,
        sealedSecret: webhook.sealedSecret,
        createdAt: webhook.createdAt,
      });
    });
  }

  // `$eq`: ids are compared as values, never read as query operators.
  async listOwned(userId: string): Promise<Webhook[]> {
    return this.mongo.guard(async () =>
      (
        await this.webhooks
          .find({ userId: { $eq: userId } })
          .sort({ _id: 1 })
          .lean()
          .exec()
      ).map(toWebhook),
    );
  }

  async findById(id: string): Promise<Webhook | null> {
    return this.mongo.guard(async () => {
      const doc = await this.webhooks
        .findOne({ _id: { $eq: id } })
        .lean()
        .exec();
      return doc ? toWebhook(doc) : null;
    });
  }

  async findOwned(id: string, userId: string): Promise<Webhook | null> {
    return this.mongo.guard(async () => {
      const doc = await this.webhooks
        .findOne({ _id: { $eq: id }, userId: { $eq: userId } })
        .lean()
        .exec();
      return doc ? toWebhook(doc) : null;
    });
  }

  async deleteOwned(id: string, userId: string): Promise<boolean> {
    return this.mongo.guard(async () => {
      const { deletedCount } = await this.webhooks.deleteOne({ _id: { $eq: id }, userId: { $eq: userId } }).exec();
      if (deletedCount === 0) return false;
      await this.deliveries.deleteMany({ webhookId: { $eq: id } }).exec();
      return true;
    });
  }

  async listForEvent(userId: string, event: WebhookEvent): Promise<Webhook[]> {
    return this.mongo.guard(async () =>
      (
        await this.webhooks
          .find({ userId: { $eq: userId }, events: { $eq: event } })
          .sort({ _id: 1 })
          .lean()
          .exec()
      ).map(toWebhook),
    );
  }

  async recordDelivery(delivery: Delivery): Promise<void> {
    await this.mongo.guard(async () => {
      // Like SQLite's INSERT … WHERE EXISTS: an attempt that ends after its webhook was deleted leaves nothing behind.
      if (!(await this.webhooks.exists({ _id: { $eq: delivery.webhookId } }).exec())) return;
      await this.deliveries.create({
        _id: delivery.id,
        webhookId: delivery.webhookId,
        event: delivery.event,
        jobId: delivery.jobId,
        attempt: delivery.attempt,
        status: delivery.status,
        responseCode: delivery.responseCode,
        excerpt: delivery.excerpt,
        at: delivery.at,
      });
    });
  }

  async listDeliveries(webhookId: string, limit: number): Promise<Delivery[]> {
    return this.mongo.guard(async () =>
      (
        await this.deliveries
          .find({ webhookId: { $eq: webhookId } })
          .sort({ at: -1, _id: -1 })
          .limit(limit)
          .lean()
          .exec()
      ).map((doc) => ({
        id: doc._id,
        webhookId: doc.webhookId,
        event: doc.event,
        jobId: doc.jobId,
        attempt: doc.attempt,
        status: doc.status,
        responseCode: doc.responseCode ?? null,
        excerpt: doc.excerpt ?? null,
        at: doc.at,
      })),
    );
  }
}

function toWebhook(doc: WebhookDocument): Webhook {
  return { id: doc._id, userId: doc.userId, url: doc.url, events: doc.events, sealedSecret: doc.sealedSecret, createdAt: doc.createdAt };
}
