import 'reflect-metadata';
import { ConfigError, loadConfig } from '@app/core';
import { runAdminCli } from './admin/admin-cli';
import { runBackupCli } from './backup/backup-cli';
import { createApiApp } from './bootstrap';

async function main(): Promise<void> {
  // `node dist/apps/api/main.js backup|restore <dir>` (`npm run backup|restore -- <dir>`), then exit.
  const command = process.argv[2];
  if (command === 'backup' || command === 'restore') {
    process.exitCode = await runBackupCli(command, process.argv.slice(3));
    return;
  }
  const config = loadConfig();
  // `node dist/apps/api/main.js admin …` (`npm run admin -- …`): operator rights, then exit.
  if (process.argv[2] === 'admin') {
    process.exitCode = await runAdminCli(process.argv.slice(3), config);
    return;
  }
  const app = await createApiApp(config);
  await app.listen(config.port);
}

main().catch((error: unknown) => {
  console.error(error instanceof ConfigError ? error.message : error);
  process.exit(1);
});
