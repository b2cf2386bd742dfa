import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import { HealthCheck, HealthCheckResult, HealthCheckService, HealthIndicatorService } from '@nestjs/terminus';
import { RedisConnections } from '@app/core';
import { JobsRepository } from '@app/jobs';
import { StorageDriver } from '@app/storage';

const CHECK_TIMEOUT_MS = 2000;

/** Readiness of the api: its database, Redis and storage. 503 names what is down. */
@ApiTags('health')
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicator: HealthIndicatorService,
    private readonly jobs: JobsRepository,
    private readonly redis: RedisConnections,
    private readonly storage: StorageDriver,
  ) {}

  @Get()
  @HealthCheck()
  @ApiOperation({ summary: 'Health of the api and what it depends on' })
  @ApiOkResponse({ description: '`{ status: "ok", details }`' })
  @ApiServiceUnavailableResponse({ description: '`{ status: "error", error, details }` naming what is down' })
  check(): Promise<HealthCheckResult> {
    return this.health.check([
      () => this.probe('database', () => this.jobs.ping()),
      () => this.probe('redis', async () => void (await this.redis.get('commands').ping())),
      () => this.probe('storage', () => this.storage.ping()),
    ]);
  }

  private async probe(key: string, check: () => Promise<void>) {
    const session = this.indicator.check(key);
    const started = Date.now();
    try {
      await withTimeout(check(), CHECK_TIMEOUT_MS);
      return session.up({ ms: Date.now() - started });
    } catch (error) {
      return session.down({ message: (error as Error).message });
    }
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
