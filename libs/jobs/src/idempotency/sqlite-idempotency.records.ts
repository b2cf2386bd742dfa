import { Injectable } from '@nestjs/common';
import { SqliteDatabase } from '@app/core';
import { IDEMPOTENCY_TTL_MS, IdempotencyRecords } from './idempotency.records';

/** Idempotency responses in the `idempotency_keys` table (created by the jobs lib's migrations). */
@Injectable()
export class SqliteIdempotencyRecords extends IdempotencyRecords {
  constructor(private readonly sqlite: SqliteDatabase) {
    super();
  }

  async findResponse(userId: string, key: string, now: Date): Promise<string | null> {
    const row = await this.sqlite.get<{ response: string }>(
      'SELECT response FROM idempotency_keys WHERE user_id = ? AND key = ? AND response IS NOT NULL AND created_at >= ?',
      userId,
      key,
      now.getTime() - IDEMPOTENCY_TTL_MS,
    );
    return row?.response ?? null;
  }

  saveResponse(userId: string, key: string, response: string, now: Date): Promise<void> {
    const expired = now.getTime() - IDEMPOTENCY_TTL_MS;
    return this.sqlite.transaction(
      () => {
        this.sqlite.prepare('DELETE FROM idempotency_keys WHERE created_at < ?').run(expired);
        // Rows without a response are claims written before leases moved to Redis: take them over.
        this.sqlite
          .prepare(
            `INSERT INTO idempotency_keys (user_id, key, response, created_at) VALUES (?, ?, ?, ?)
             ON CONFLICT (user_id, key) DO UPDATE SET response = excluded.response, created_at = excluded.created_at
             WHERE idempotency_keys.response IS NULL`,
          )
          .run(userId, key, response, now.getTime());
      },
      { immediate: true },
    );
  }
}
