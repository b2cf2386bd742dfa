import { Injectable, OnModuleInit } from '@nestjs/common';
import { SqliteDatabase } from '@app/core';
import type { User, UserRole } from '../user';
import { EmailTakenError, UsersRepository } from '../users.repository';
import { AUTH_SQLITE_MIGRATIONS } from './migrations';

interface UserRow {
  id: string;
  email: string;
  password_hash: string;
  role: UserRole;
  created_at: number;
  updated_at: number;
}

@Injectable()
export class SqliteUsersRepository extends UsersRepository implements OnModuleInit {
  constructor(private readonly sqlite: SqliteDatabase) {
    super();
  }

  onModuleInit(): void {
    this.sqlite.migrate('auth', AUTH_SQLITE_MIGRATIONS);
  }

  async create(user: User): Promise<User> {
    try {
      await this.sqlite.execute(
        'INSERT INTO users (id, email, password_hash, role, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)',
        user.id,
        user.email,
        user.passwordHash,
        user.role,
        user.createdAt.getTime(),
        user.updatedAt.getTime(),
      );
    } catch (error) {
      if ((error as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE') throw new EmailTakenError();
      throw error;
    }
    return user;
  }

  // String(): a value is compared as text even if something other than a string slips through.
  async findByEmail(email: string): Promise<User | null> {
    return toUser(await this.sqlite.get<UserRow>('SELECT * FROM users WHERE email = ?', String(email)));
  }

  async findById(id: string): Promise<User | null> {
    return toUser(await this.sqlite.get<UserRow>('SELECT * FROM users WHERE id = ?', String(id)));
  }

  async setRole(email: string, role: UserRole): Promise<User | null> {
    const changed = await this.sqlite.execute('UPDATE users SET role = ?, updated_at = ? WHERE email = ?', role, Date.now(), String(email));
    return changed === 0 ? null : this.findByEmail(email);
  }

  async findByRole(role: UserRole): Promise<User[]> {
    const rows = await this.sqlite.all<UserRow>('SELECT * FROM users WHERE role = ? ORDER BY created_at, id', role);
    return rows.map((row) => toUser(row)!);
  }
}

function toUser(row: UserRow | undefined): User | null {
  if (!row) return null;
  return {
    id: row.id,
    email: row.email,
    passwordHash: row.password_hash,
    role: row.role,
    createdAt: new Date(row.created_at),
    updatedAt: new Date(row.updated_at),
  };
}
