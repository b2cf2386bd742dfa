import { DynamicModule, Global, Inject, Injectable, Module, OnApplicationShutdown } from '@nestjs/common';
import { getConnectionToken } from '@nestjs/mongoose';
import { DatabaseConfig } from '../config/app-config';
import { MongoDatabase } from './mongo-database';
import { SqliteDatabase } from './sqlite-database';

@Injectable()
class SqliteLifecycle implements OnApplicationShutdown {
  constructor(@Inject(SqliteDatabase) private readonly sqlite: SqliteDatabase) {}
  onApplicationShutdown(): void {
    this.sqlite.close();
  }
}

/**
 * Opens the database named by DATABASE_URL: the embedded SQLite file, or MongoDB (whose connection
 * is also provided under @nestjs/mongoose's token, for `MongooseModule.forFeature` models).
 * Chosen at boot from the loaded config; repositories pick their adapter the same way.
 */
@Global()
@Module({})
export class DatabaseModule {
  static forRoot(config: DatabaseConfig): DynamicModule {
    if (config.kind === 'sqlite') {
      return {
        module: DatabaseModule,
        providers: [{ provide: SqliteDatabase, useFactory: () => new SqliteDatabase(config.path) }, SqliteLifecycle],
        exports: [SqliteDatabase],
      };
    }
    return {
      module: DatabaseModule,
      providers: [
        { provide: MongoDatabase, useFactory: () => new MongoDatabase(config.url) },
        { provide: getConnectionToken(), useFactory: (mongo: MongoDatabase) => mongo.connection, inject: [MongoDatabase] },
      ],
      exports: [MongoDatabase, getConnectionToken()],
    };
  }
}
