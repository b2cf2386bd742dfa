import type { NestExpressApplication } from '@nestjs/platform-express';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadConfig } from '@app/core';
import { createApiApp } from '../../apps/api/src/bootstrap';

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
  const prefix = `${process.env.THUMBS_TEST_RUN ?? 'local'}-ip${process.pid}-${count}`;
  const fullEnv: Record<string, string> = {
    NODE_ENV: 'test',
    LOG_LEVEL: 'error',
    DATA_DIR: dir,
    DATABASE_URL: `sqlite:${path.join(dir, 'thumbs.db')}`,
    STORAGE_URL: `file:${path.join(dir, 'files')}`,
    REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    QUEUE_PREFIX: prefix,
    BCRYPT_COST: '10',
    RATE_LIMIT_AUTH: '100000',
    RATE_LIMIT_UPLOADS: '100000',
    ...env,
  };
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
      const IORedis = (await import('ioredis')).default;
      const redis = new IORedis(fullEnv.REDIS_URL);
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
        if (keys.length > 0) await redis.del(...keys);
        cursor = next;
      } while (cursor !== '0');
      redis.disconnect();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
