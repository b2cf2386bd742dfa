// One process starting on a database at the same instant as others (see migrations.e2e-spec.ts):
// opens the SQLite file, waits for the start signal, then brings the auth and jobs tables up to date
// as the api and workers do at start, and prints the migrations it applied itself.
import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { AUTH_SQLITE_MIGRATIONS } from '@app/auth/adapters';
import { SqliteDatabase } from '@app/core';
import { JOBS_SQLITE_MIGRATIONS } from '@app/jobs/adapters';

async function main(): Promise<void> {
  const [file, startAt] = process.argv.slice(2);
  Logger.overrideLogger(false); // stdout carries the result only
  const database = new SqliteDatabase(file);
  while (Date.now() < Number(startAt)) await new Promise((resolve) => setTimeout(resolve, 1));
  const applied = [...database.migrate('auth', AUTH_SQLITE_MIGRATIONS), ...database.migrate('jobs', JOBS_SQLITE_MIGRATIONS)];
  database.close();
  process.stdout.write(JSON.stringify({ applied }));
}

void main();
