import { BackupError, ConfigError, Env, loadConfig, runBackup, runRestore } from '@app/core';

const USAGE = {
  backup: 'Usage: npm run backup -- <empty or new folder>',
  restore: 'Usage: npm run restore -- <backup folder>   (into the EMPTY data folder of DATA_DIR / DATABASE_URL / STORAGE_URL)',
};

/** Stands in for an unset JWT_SECRET: these commands sign nothing, and must not create a secret file in the data folder. */
const UNUSED_SECRET = 'backup-and-restore-sign-nothing-0000000000';

/**
 * `npm run backup -- <dir>` and `npm run restore -- <dir>` (`node dist/apps/api/main.js backup|restore <dir>`):
 * the environment is read by the service's own loader, so DATABASE_URL, STORAGE_URL and DATA_DIR
 * mean what they mean to the running api. Resolves the exit code: 0 done, 1 refused, 2 usage.
 */
export async function runBackupCli(
  command: 'backup' | 'restore',
  args: readonly string[],
  env: Env = process.env,
  out = process.stdout,
  err = process.stderr,
): Promise<number> {
  if (args.length !== 1 || args[0] === '' || args[0].startsWith('-')) {
    err.write(`${USAGE[command]}\n`);
    return 2;
  }
  const secretInEnv = Boolean(env.JWT_SECRET);
  const say = (line: string) => out.write(`${line}\n`);
  try {
    const config = loadConfig(secretInEnv ? env : { ...env, JWT_SECRET: UNUSED_SECRET });
    if (command === 'backup') {
      const manifest = await runBackup(config, args[0], say, { secretInEnv });
      say(
        `backup done: ${manifest.files?.length ?? 0} file(s)${manifest.missing.length ? `, ${manifest.missing.length} noted as deleted meanwhile` : ''}`,
      );
    } else {
      await runRestore(config, args[0], say, { secretInEnv });
      say('restore done: start the api and workers on this data folder');
    }
    return 0;
  } catch (error) {
    if (!(error instanceof BackupError || error instanceof ConfigError)) throw error;
    err.write(`${error.message}\n`);
    return 1;
  }
}
