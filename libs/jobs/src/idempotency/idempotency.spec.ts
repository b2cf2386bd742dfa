import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadConfig, RedisConnections, SqliteDatabase } from '@app/core';
import { JOBS_SQLITE_MIGRATIONS } from '../persistence/migrations';
import { Idempotency } from './idempotency';
import { SqliteIdempotencyRecords } from './sqlite-idempotency.records';

/** A port nothing listens on: Redis "down". */
function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

describe('Idempotency with Redis down (real SQLite, a Redis address that refuses)', () => {
  it('lets the request run without a lease and keeps its response for replays', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'thumbs-idem-'));
    const config = loadConfig({ NODE_ENV: 'test', DATA_DIR: dir, REDIS_URL: `redis://127.0.0.1:${await closedPort()}` }, dir);
    const sqlite = new SqliteDatabase(path.join(dir, 'jobs.db'));
    sqlite.migrate('jobs', JOBS_SQLITE_MIGRATIONS);
    const redis = new RedisConnections(config);
    try {
      const idempotency = new Idempotency(new SqliteIdempotencyRecords(sqlite), redis, config);
      const claim = await idempotency.claim('user-1', 'key-1');
      expect(claim.state).toBe('claimed');
      if (claim.state !== 'claimed') return;
      await claim.lease.complete('{"jobs":["a"]}');
      expect(await idempotency.claim('user-1', 'key-1')).toEqual({ state: 'done', response: '{"jobs":["a"]}' });
    } finally {
      await redis.onApplicationShutdown();
      sqlite.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
