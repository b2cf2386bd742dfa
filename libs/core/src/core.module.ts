import { DynamicModule, Global, Module } from '@nestjs/common';
import { AppConfig } from './config/app-config';
import { DatabaseModule } from './database/database.module';
import { loggerModule } from './logging/logger.module';
import { MetricsRegistry } from './metrics/metrics-registry';
import { RedisConnections } from './redis/redis-connections';

/**
 * What every process needs: the loaded config, structured logging, the database chosen by
 * DATABASE_URL and Redis connections, the metrics registry. Built from the config loaded at boot.
 */
@Global()
@Module({})
export class CoreModule {
  static forRoot(config: AppConfig, app: 'api' | 'worker'): DynamicModule {
    return {
      module: CoreModule,
      imports: [loggerModule(config, app), DatabaseModule.forRoot(config.database)],
      providers: [{ provide: AppConfig, useValue: config }, RedisConnections, MetricsRegistry],
      exports: [AppConfig, RedisConnections, MetricsRegistry, DatabaseModule],
    };
  }
}
