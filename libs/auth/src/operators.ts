import { DynamicModule, Injectable, Module } from '@nestjs/common';
import { MongooseModule } from '@nestjs/mongoose';
import { DatabaseConfig, NotFoundError } from '@app/core';
import { MongoUsersRepository, UserDocument, UserSchema } from './persistence/mongo-users.repository';
import { SqliteUsersRepository } from './persistence/sqlite-users.repository';
import { normaliseEmail, User } from './user';
import { UsersRepository } from './users.repository';

/**
 * Who is an operator (may open the queue dashboard): `users.role = 'admin'`, set only by a command
 * run on the server (`npm run admin -- grant <email>`). Nothing reachable over HTTP writes a role,
 * and no configuration names operators, so registering any address grants nothing.
 */
@Injectable()
export class Operators {
  constructor(private readonly users: UsersRepository) {}

  /** Makes the registered account with this email an operator (from its next request on). */
  grant(email: string): Promise<User> {
    return this.set(email, 'admin');
  }

  /** Takes operator rights away again (from the account's next request on). */
  revoke(email: string): Promise<User> {
    return this.set(email, 'user');
  }

  list(): Promise<User[]> {
    return this.users.findByRole('admin');
  }

  private async set(email: string, role: User['role']): Promise<User> {
    const user = await this.users.setRole(normaliseEmail(email), role);
    if (!user) throw new NotFoundError(`No account is registered with ${normaliseEmail(email)}; it must sign up first.`);
    return user;
  }
}

/** Just the users store and `Operators`, for the `admin` command (no Redis, no HTTP). */
@Module({})
export class OperatorsModule {
  static forRoot(database: DatabaseConfig): DynamicModule {
    return {
      module: OperatorsModule,
      imports: database.kind === 'mongo' ? [MongooseModule.forFeature([{ name: UserDocument.name, schema: UserSchema }])] : [],
      providers: [
        { provide: UsersRepository, useClass: database.kind === 'mongo' ? MongoUsersRepository : SqliteUsersRepository },
        Operators,
      ],
      exports: [Operators],
    };
  }
}
