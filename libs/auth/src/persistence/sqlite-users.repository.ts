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
    return this.sqlite.guard(() => {
      try {
        this.sqlite
          .prepare('INSERT INTO users (id, email, password_hash, role, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)')
          .run(user.id, user.email, user.passwordHash, user.role, user.createdAt.getTime(), user.updatedAt.getTime());
      } catch (error) {
        if ((error as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE') throw new EmailTakenError();
        throw error;
      }
      return user;
    });
  }

  // String(): a value is compared as text even if something other than a string slips through.
  async findByEmail(email: string): Promise<User | null> {
    return this.sqlite.guard(() => {
      const row = this.sqlite.prepare('SELECT * FROM users WHERE email = ?').get(String(email)) as UserRow | undefined;
      return row ? toUser(row) : null;
    });
  }

  async findById(id: string): Promise<User | null> {
    return this.sqlite.guard(() => {
      const row = this.sqlite.prepare('SELECT * FROM users WHERE id = ?').get(String(id)) as UserRow | undefined;
      return row ? toUser(row) : null;
    });
  }
}

function toUser(row: UserRow): User {
  return {
    id: row.id,
    email: row.email,
    passwordHash: row.password_hash,
    role: row.role,
    createdAt: new Date(row.created_at),
    updatedAt: new Date(row.updated_at),
  };
}
