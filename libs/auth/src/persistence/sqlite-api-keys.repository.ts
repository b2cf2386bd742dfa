import { Injectable, OnModuleInit } from '@nestjs/common';
import { SqliteDatabase } from '@app/core';
import type { ApiKeyScope } from '@app/shared';
import { ApiKey, ApiKeysRepository } from '../api-keys.repository';
import { AUTH_SQLITE_MIGRATIONS } from './migrations';

interface ApiKeyRow {
  id: string;
  user_id: string;
  name: string;
  scopes: string;
  key_hash: string;
  created_at: number;
  last_used_at: number | null;
}

@Injectable()
export class SqliteApiKeysRepository extends ApiKeysRepository implements OnModuleInit {
  constructor(private readonly sqlite: SqliteDatabase) {
    super();
  }

  onModuleInit(): void {
    this.sqlite.migrate('auth', AUTH_SQLITE_MIGRATIONS);
  }

  async insert(key: ApiKey): Promise<void> {
    await this.sqlite.execute(
      'INSERT INTO api_keys (id, user_id, name, scopes, key_hash, created_at, last_used_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
      key.id,
      key.userId,
      key.name,
      key.scopes.join(' '),
      key.keyHash,
      key.createdAt.getTime(),
      key.lastUsedAt?.getTime() ?? null,
    );
  }

  async listByUser(userId: string): Promise<ApiKey[]> {
    return (
      await this.sqlite.all<ApiKeyRow>('SELECT * FROM api_keys WHERE user_id = ? ORDER BY created_at DESC, id DESC', String(userId))
    ).map(toKey);
  }

  async deleteOwned(id: string, userId: string): Promise<boolean> {
    return (await this.sqlite.execute('DELETE FROM api_keys WHERE id = ? AND user_id = ?', String(id), String(userId))) === 1;
  }

  async findByHash(keyHash: string): Promise<ApiKey | null> {
    const row = await this.sqlite.get<ApiKeyRow>('SELECT * FROM api_keys WHERE key_hash = ?', String(keyHash));
    return row ? toKey(row) : null;
  }

  async findById(id: string): Promise<ApiKey | null> {
    const row = await this.sqlite.get<ApiKeyRow>('SELECT * FROM api_keys WHERE id = ?', String(id));
    return row ? toKey(row) : null;
  }

  async touch(id: string, at: Date): Promise<void> {
    await this.sqlite.execute('UPDATE api_keys SET last_used_at = ? WHERE id = ?', at.getTime(), id);
  }
}

function toKey(row: ApiKeyRow): ApiKey {
  return {
    id: row.id,
    userId: row.user_id,
    name: row.name,
    scopes: row.scopes.split(' ').filter(Boolean) as ApiKeyScope[],
    keyHash: row.key_hash,
    createdAt: new Date(row.created_at),
    lastUsedAt: row.last_used_at === null ? null : new Date(row.last_used_at),
  };
}
