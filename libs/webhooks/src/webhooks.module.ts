import { DynamicModule, Module } from '@nestjs/common';
import { MongooseModule } from '@nestjs/mongoose';
import type { DatabaseConfig } from '@app/core';
import { WebhookDeliverer } from './delivery/webhook-deliverer';
import { WebhookQueue } from './delivery/webhook-queue';
import {
  MongoWebhooksRepository,
  WebhookDeliveryDocument,
  WebhookDeliverySchema,
  WebhookDocument,
  WebhookSchema,
} from './persistence/mongo-webhooks.repository';
import { SqliteWebhooksRepository } from './persistence/sqlite-webhooks.repository';
import { SecretBox } from './secret-box';
import { WebhooksRepository } from './webhooks.repository';
import { WebhooksService } from './webhooks.service';

/**
 * Webhooks: the repository (adapter per DATABASE_URL), the secrets' sealing and the owners'
 * service (`forRoot`, the api); `forWorker` adds the delivery queue and the deliverer. The worker
 * app wires WebhookDispatcher to the job lifecycle and consumes the queue.
 */
@Module({})
export class WebhooksModule {
  static forRoot(database: DatabaseConfig): DynamicModule {
    return {
      module: WebhooksModule,
      imports:
        database.kind === 'mongo'
          ? [
              MongooseModule.forFeature([
                { name: WebhookDocument.name, schema: WebhookSchema },
                { name: WebhookDeliveryDocument.name, schema: WebhookDeliverySchema },
              ]),
            ]
          : [],
      providers: [
        { provide: WebhooksRepository, useClass: database.kind === 'mongo' ? MongoWebhooksRepository : SqliteWebhooksRepository },
        SecretBox,
        WebhooksService,
      ],
      exports: [WebhooksRepository, SecretBox, WebhooksService],
    };
  }

  static forWorker(database: DatabaseConfig): DynamicModule {
    const base = WebhooksModule.forRoot(database);
    return {
      ...base,
      providers: [...(base.providers ?? []), WebhookQueue, WebhookDeliverer],
      exports: [...(base.exports ?? []), WebhookQueue, WebhookDeliverer],
    };
  }
}
