import type { MongoMigration, SqliteMigration } from '@app/core';

/**
 * The schema of the auth lib (table `users`), one migration per change, in order; never edit one
 * that has been released. See docs/architecture.md, "Migrations".
 */
export const AUTH_SQLITE_MIGRATIONS: readonly SqliteMigration[] = [
  {
    // The table as it was created before migrations existed (IF NOT EXISTS: such databases are adopted as they are).
    id: 'auth/0001-users',
    up: `
CREATE TABLE IF NOT EXISTS users (
  id            TEXT PRIMARY KEY,
  email         TEXT NOT NULL UNIQUE,
  password_hash TEXT NOT NULL,
  created_at    INTEGER NOT NULL,
  updated_at    INTEGER NOT NULL
);`,
  },
  {
    // Operators are recorded here (granted with `npm run admin -- grant <email>`), never by configuration.
    id: 'auth/0002-user-role',
    up: "ALTER TABLE users ADD COLUMN role TEXT NOT NULL DEFAULT 'user' CHECK (role IN ('user', 'admin'))",
  },
  {
    // Refresh sessions: only the SHA-256 of each token is kept; a family is the chain of one sign-in.
    id: 'auth/0005-refresh-tokens',
    up: `
CREATE TABLE refresh_tokens (
  id         TEXT PRIMARY KEY,
  user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  family_id  TEXT NOT NULL,
  token_hash TEXT NOT NULL UNIQUE,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  rotated_at INTEGER,
  revoked_at INTEGER
);`,
  },
  {
    // Revoking a family (reuse detected, sign-out) and purging expired tokens.
    id: 'auth/0006-refresh-token-indexes',
    up: `
CREATE INDEX refresh_tokens_family_id ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_expires_at ON refresh_tokens (expires_at);`,
  },
  {
    // API keys: the HMAC-SHA256 of each key (looked up by it), never the key; scopes space-separated.
    id: 'auth/0007-api-keys',
    up: `
CREATE TABLE api_keys (
  id           TEXT PRIMARY KEY,
  user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  name         TEXT NOT NULL,
  scopes       TEXT NOT NULL,
  key_hash     TEXT NOT NULL UNIQUE,
  created_at   INTEGER NOT NULL,
  last_used_at INTEGER
);
CREATE INDEX api_keys_user_id ON api_keys (user_id, created_at);`,
  },
  {
    // Whether a session has ended, asked with the user on every request by an access token: the
    // revoked rows of a family only (a live family has no row here, however many tokens it rotated).
    id: 'auth/0008-revoked-families',
    up: 'CREATE INDEX refresh_tokens_revoked_family ON refresh_tokens (family_id) WHERE revoked_at IS NOT NULL;',
  },
];

/**
 * Backfills and data changes of the auth collections; their indexes follow the schemas
 * (UserSchema; RefreshTokenSchema and ApiKeySchema, new collections that need no backfill).
 */
export const AUTH_MONGO_MIGRATIONS: readonly MongoMigration[] = [
  {
    id: 'auth/0002-user-role',
    up: async (connection) => {
      await connection.collection('users').updateMany({ role: { $exists: false } }, { $set: { role: 'user' } });
    },
  },
];
