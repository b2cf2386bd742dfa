import { Injectable } from '@nestjs/common';
import { AppConfig, RedisConnections } from '@app/core';

/** What a live worker process says about itself. */
export interface WorkerInfo {
  id: string;
  host: string;
  pid: number;
  startedAt: string;
  concurrency: number;
  /** Jobs running right now. */
  active: number;
  /** The media tools it uses (ffmpeg, ffprobe: path, where from, version). */
  tools: Record<string, unknown>;
}

/** How long a heartbeat counts; workers renew theirs well within it. */
const HEARTBEAT_TTL_MS = 15_000;

/**
 * Live workers, as heartbeats in Redis that expire on their own when a worker dies. Lets the api
 * report how many workers run and which ffmpeg they use, without ever running ffmpeg itself.
 */
@Injectable()
export class WorkerRegistry {
  private readonly prefix: string;

  constructor(
    private readonly redis: RedisConnections,
    config: AppConfig,
  ) {
    this.prefix = `${config.redis.prefix}:workers:`;
  }

  async announce(info: WorkerInfo): Promise<void> {
    await this.redis.get('commands').set(this.prefix + info.id, JSON.stringify(info), 'PX', HEARTBEAT_TTL_MS);
  }

  async withdraw(id: string): Promise<void> {
    await this.redis.get('commands').del(this.prefix + id);
  }

  async list(): Promise<WorkerInfo[]> {
    const client = this.redis.get('commands');
    const keys: string[] = [];
    let cursor = '0';
    do {
      const [next, batch] = await client.scan(cursor, 'MATCH', `${this.prefix}*`, 'COUNT', 500);
      keys.push(...batch);
      cursor = next;
    } while (cursor !== '0');
    if (keys.length === 0) return [];
    const values = await client.mget(...keys);
    return values.flatMap((value) => (value ? [JSON.parse(value) as WorkerInfo] : []));
  }
}
