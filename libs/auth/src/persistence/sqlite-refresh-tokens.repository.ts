import { Injectable, OnModuleInit } from '@nestjs/common';
import { SqliteDatabase } from '@app/core';
import { RefreshToken, RefreshTokensRepository } from '../refresh-tokens.repository';
import { AUTH_SQLITE_MIGRATIONS } from './migrations';

interface RefreshTokenRow {
  id: string;
  user_id: string;
  family_id: string;
  token_hash: string;
  created_at: number;
  expires_at: number;
  rotated_at: number | null;
  revoked_at: number | null;
}

@Injectable()
export class SqliteRefreshTokensRepository extends RefreshTokensRepository implements OnModuleInit {
  constructor(private readonly sqlite: SqliteDatabase) {
    super();
  }

  onModuleInit(): void {
    this.sqlite.migrate('auth', AUTH_SQLITE_MIGRATIONS);
  }

  async insert(token: RefreshToken): Promise<void> {
    await this.sqlite.execute(
      `INSERT INTO refresh_tokens (id, user_id, family_id, token_hash, created_at, expires_at, rotated_at, revoked_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      token.id,
      token.userId,
      token.familyId,
      token.tokenHash,
      token.createdAt.getTime(),
      token.expiresAt.getTime(),
      token.rotatedAt?.getTime() ?? null,
      token.revokedAt?.getTime() ?? null,
    );
  }

  async findByHash(tokenHash: string): Promise<RefreshToken | null> {
    const row = await this.sqlite.get<RefreshTokenRow>('SELECT * FROM refresh_tokens WHERE token_hash = ?', String(tokenHash));
    return row ? toToken(row) : null;
  }

  async markRotated(id: string, at: Date): Promise<boolean> {
    const changed = await this.sqlite.execute(
      'UPDATE refresh_tokens SET rotated_at = ? WHERE id = ? AND rotated_at IS NULL AND revoked_at IS NULL',
      at.getTime(),
      id,
    );
    return changed === 1;
  }

  async revokeFamily(familyId: string, at: Date, keepUntil: Date): Promise<void> {
    await this.sqlite.execute(
      'UPDATE refresh_tokens SET revoked_at = ?, expires_at = MAX(expires_at, ?) WHERE family_id = ? AND revoked_at IS NULL',
      at.getTime(),
      keepUntil.getTime(),
      familyId,
    );
  }

  async isFamilyRevoked(familyId: string): Promise<boolean> {
    const row = await this.sqlite.get<{ one: number }>(
      'SELECT 1 AS one FROM refresh_tokens WHERE family_id = ? AND revoked_at IS NOT NULL LIMIT 1',
      String(familyId),
    );
    return row !== undefined;
  }

  deleteExpired(before: Date): Promise<number> {
    return this.sqlite.execute('DELETE FROM refresh_tokens WHERE expires_at < ?', before.getTime());
  }
}

function toToken(row: RefreshTokenRow): RefreshToken {
  return {
    id: row.id,
    userId: row.user_id,
    familyId: row.family_id,
    tokenHash: row.token_hash,
    createdAt: new Date(row.created_at),
    expiresAt: new Date(row.expires_at),
    rotatedAt: row.rotated_at === null ? null : new Date(row.rotated_at),
    revokedAt: row.revoked_at === null ? null : new Date(row.revoked_at),
  };
}
