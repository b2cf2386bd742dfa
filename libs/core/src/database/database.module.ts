import { DynamicModule, Global, Inject, Injectable, Module, OnApplicationShutdown } from '@nestjs/common';
import { MongooseModule } from '@nestjs/mongoose';
import { DatabaseConfig } from '../config/app-config';
import { SqliteDatabase } from './sqlite-database';

@Injectable()
class SqliteLifecycle implements OnApplicationShutdown {
  constructor(@Inject(SqliteDatabase) private readonly sqlite: SqliteDatabase) {}
  onApplicationShutdown(): void {
    this.sqlite.close();
  }
}

/**
 * Opens the database named by DATABASE_URL: the embedded SQLite file, or MongoDB through
 * @nestjs/mongoose. Chosen at boot from the loaded config; repositories pick their adapter the same way.
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
      imports: [
        MongooseModule.forRoot(config.url, {
          // Fail fast when MongoDB is unreachable instead of queueing commands until a request hangs.
          bufferCommands: false,
          serverSelectionTimeoutMS: 5000,
          connectTimeoutMS: 5000,
          autoIndex: true,
          lazyConnection: false,
        }),
      ],
      exports: [MongooseModule],
    };
  }
}
