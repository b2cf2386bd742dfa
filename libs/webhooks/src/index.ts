export * from './webhook';
export * from './webhooks.repository';
export * from './webhooks.service';
export * from './webhooks.module';
export * from './delivery/webhook-queue';
export * from './delivery/webhook-deliverer';
export * from './delivery/webhook-dispatcher';
