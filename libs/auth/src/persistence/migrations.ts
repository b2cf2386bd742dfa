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
];

/** Backfills and data changes of collection `users`; its indexes follow UserSchema. */
export const AUTH_MONGO_MIGRATIONS: readonly MongoMigration[] = [
  {
    id: 'auth/0002-user-role',
    up: async (connection) => {
      await connection.collection('users').updateMany({ role: { $exists: false } }, { $set: { role: 'user' } });
    },
  },
];
