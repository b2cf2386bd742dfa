import { Injectable } from '@nestjs/common';
import { RedisConnections } from '@app/core';
import { StorageDriver } from '@app/storage';
import { withDeadline } from '../execution/with-timeout';
import { JobsRepository } from '../jobs.repository';

export interface ProbeResult {
  status: 'up' | 'down';
  ms: number;
  message?: string;
}

const TIMEOUT_MS = 2000;

/**
 * Checks of what every process depends on: the database (can it take a write now), Redis and
 * storage. Each answers within two seconds, up or down with the reason. Used by the api's
 * /api/health and the worker's own health endpoint.
 */
@Injectable()
export class DependencyProbes {
  constructor(
    private readonly jobs: JobsRepository,
    private readonly redis: RedisConnections,
    private readonly storage: StorageDriver,
  ) {}

  database(): Promise<ProbeResult> {
    return probe(() => this.jobs.ping());
  }

  redisServer(): Promise<ProbeResult> {
    return probe(async () => {
      await this.redis.get('commands').ping();
    });
  }

  storageBackend(): Promise<ProbeResult> {
    return probe(() => this.storage.ping());
  }

  async all(): Promise<Record<'database' | 'redis' | 'storage', ProbeResult>> {
    const [database, redis, storage] = await Promise.all([this.database(), this.redisServer(), this.storageBackend()]);
    return { database, redis, storage };
  }
}

async function probe(check: () => Promise<string | void>): Promise<ProbeResult> {
  const started = Date.now();
  try {
    const warning = await withDeadline(TIMEOUT_MS, `no answer within ${TIMEOUT_MS} ms`, check());
    return { status: 'up', ms: Date.now() - started, ...(warning ? { message: warning } : {}) };
  } catch (error) {
    return { status: 'down', ms: Date.now() - started, message: (error as Error).message };
  }
}
