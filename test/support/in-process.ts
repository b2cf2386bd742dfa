import type { NestExpressApplication } from '@nestjs/platform-express';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadConfig } from '@app/core';
import { createApiApp } from '../../apps/api/src/bootstrap';
import { clearRedisPrefix, testEnv, uniquePrefix } from './env';

let count = 0;

export interface InProcessApi {
  app: NestExpressApplication;
  baseUrl: string;
  dir: string;
  prefix: string;
  env: Record<string, string>;
  close(): Promise<void>;
}

/**
 * The real api application (same module, same bootstrap as main.ts) inside the test process,
 * listening on a free port, with its own SQLite file, storage folder and Redis prefix.
 */
export async function startInProcessApi(env: Record<string, string> = {}): Promise<InProcessApi> {
  count += 1;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'thumbs-api-'));
  const prefix = uniquePrefix(`ip${process.pid}-${count}`);
  const fullEnv: Record<string, string> = { ...testEnv(dir, prefix), LOG_LEVEL: 'error', ...env };
  const app = await createApiApp(loadConfig(fullEnv, dir));
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as { port: number };
  return {
    app,
    baseUrl: `http://127.0.0.1:${port}`,
    dir,
    prefix,
    env: fullEnv,
    async close() {
      await app.close();
      await clearRedisPrefix(fullEnv.REDIS_URL, prefix);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
