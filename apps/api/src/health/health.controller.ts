import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import { HealthCheck, HealthCheckResult, HealthCheckService, HealthIndicatorService } from '@nestjs/terminus';
import { DependencyProbes, ProbeResult, WorkerRegistry } from '@app/jobs';

/**
 * Readiness of the api (`/api/health`): its database, Redis and storage, each up or down with
 * the reason (503 when any is down); plus the live workers and the ffmpeg they use, which is
 * reported but does not fail the check (uploads queue up until a worker runs).
 * Liveness (`/api/health/live`): the process answers.
 */
@ApiTags('health')
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicator: HealthIndicatorService,
    private readonly probes: DependencyProbes,
    private readonly workers: WorkerRegistry,
  ) {}

  @Get()
  @HealthCheck()
  @ApiOperation({ summary: 'Readiness: the api and what it depends on' })
  @ApiOkResponse({ description: '`{ status: "ok", details }`' })
  @ApiServiceUnavailableResponse({ description: '`{ status: "error", error, details }` naming what is down' })
  check(): Promise<HealthCheckResult> {
    return this.health.check([
      async () => this.result('database', await this.probes.database()),
      async () => this.result('redis', await this.probes.redisServer()),
      async () => this.result('storage', await this.probes.storageBackend()),
      () => this.liveWorkers(),
    ]);
  }

  @Get('live')
  @ApiOperation({ summary: 'Liveness: the process answers' })
  @ApiOkResponse({ description: '`{ status: "ok" }`' })
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  /** Reported, never down: without a worker, uploads wait in the queue. */
  private async liveWorkers() {
    const session = this.indicator.check('workers');
    try {
      const live = await this.workers.list();
      const tools = [...new Set(live.map((worker) => JSON.stringify(worker.tools)))].map((json) => JSON.parse(json) as unknown);
      return session.up({
        count: live.length,
        ...(live.length === 0 ? { message: 'No worker is running: uploads wait in the queue until one starts.' } : {}),
        media: tools.length === 1 ? tools[0] : tools,
      });
    } catch (error) {
      // Redis being down is reported by its own check.
      return session.up({ count: null, message: (error as Error).message });
    }
  }

  private result(key: string, probe: ProbeResult) {
    const session = this.indicator.check(key);
    return probe.status === 'up' ? session.up({ ms: probe.ms }) : session.down({ ms: probe.ms, message: probe.message ?? 'down' });
  }
}
