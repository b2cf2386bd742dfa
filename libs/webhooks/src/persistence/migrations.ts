import type { MongoMigration, SqliteMigration } from '@app/core';

/**
 * The schema of the webhooks lib (tables `webhooks` and `webhook_deliveries`), one migration per
 * change, in order; never edit one that has been released. See docs/architecture.md, "Migrations".
 * `user_id` names a user of the auth lib without a foreign key: the libs migrate independently.
 */
export const WEBHOOKS_SQLITE_MIGRATIONS: readonly SqliteMigration[] = [
  {
    id: 'webhooks/0001-webhooks',
    up: `
CREATE TABLE webhooks (
  id            TEXT PRIMARY KEY,
  user_id       TEXT NOT NULL,
  url           TEXT NOT NULL,
  events        TEXT NOT NULL,
  sealed_secret TEXT NOT NULL,
  created_at    INTEGER NOT NULL
);
CREATE INDEX webhooks_user ON webhooks (user_id, id);
CREATE TABLE webhook_deliveries (
  id            TEXT PRIMARY KEY,
  webhook_id    TEXT NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
  event         TEXT NOT NULL,
  job_id        TEXT NOT NULL,
  attempt       INTEGER NOT NULL,
  status        TEXT NOT NULL CHECK (status IN ('delivered', 'failed', 'refused')),
  response_code INTEGER,
  excerpt       TEXT,
  at            INTEGER NOT NULL
);
CREATE INDEX webhook_deliveries_webhook ON webhook_deliveries (webhook_id, at DESC, id DESC);`,
  },
];

/** Backfills and data changes of collections `webhooks` and `webhook_deliveries`; their indexes follow the schemas. */
export const WEBHOOKS_MONGO_MIGRATIONS: readonly MongoMigration[] = [];
