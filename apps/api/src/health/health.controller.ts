import { Controller, Get, Req } from '@nestjs/common';
import type { Request } from 'express';
import { ApiOkResponse, ApiOperation, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import { HealthCheck, HealthCheckResult, HealthCheckService, HealthIndicatorService } from '@nestjs/terminus';
import { AppConfig, mayScrapeMetrics } from '@app/core';
import { DependencyProbes, JobsService, ProbeResult, WorkerRegistry } from '@app/jobs';

/**
 * Readiness of the api (`/api/health`): its database, Redis and storage, each up or down with
 * the reason (503 when any is down); plus the live workers, and the ffmpeg and decoders they use for
 * whoever may read `/metrics` (with METRICS_TOKEN set, `Authorization: Bearer <token>`: tool paths
 * and versions are an attacker's map, not a load balancer's business). No live worker
 * (no heartbeat in Redis) is down only while jobs wait (pending, queued or processing): the service
 * then takes uploads that nothing will process, which is degraded; with nothing waiting it is ok.
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
    private readonly jobs: JobsService,
    private readonly config: AppConfig,
  ) {}

  @Get()
  @HealthCheck()
  @ApiOperation({ summary: 'Readiness: the api and what it depends on' })
  @ApiOkResponse({ description: '`{ status: "ok", details }`' })
  @ApiServiceUnavailableResponse({
    description:
      '`{ status: "error", error, details }` naming what is down; `workers` is down (`count: 0`, `waiting`) when no worker ' +
      'has a heartbeat while jobs are pending, queued or processing',
  })
  check(@Req() req: Request): Promise<HealthCheckResult> {
    const detailed = mayScrapeMetrics(req.headers.authorization, this.config.http.metricsToken);
    return this.health.check([
      async () => this.result('database', await this.probes.database()),
      async () => this.result('redis', await this.probes.redisServer()),
      async () => this.result('storage', await this.probes.storageBackend()),
      () => this.liveWorkers(detailed),
    ]);
  }

  @Get('live')
  @ApiOperation({ summary: 'Liveness: the process answers' })
  @ApiOkResponse({ description: '`{ status: "ok" }`' })
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  /** Down when no worker runs while jobs wait: they would wait forever. Up otherwise, with the tools the workers use when `detailed`. */
  private async liveWorkers(detailed: boolean) {
    const session = this.indicator.check('workers');
    let live;
    try {
      live = await this.workers.list();
    } catch (error) {
      // Redis being down is reported by its own check.
      return session.up({ count: null, message: (error as Error).message });
    }
    if (live.length === 0) {
      const waiting = await this.jobs.countWaiting().catch(() => null);
      if (waiting) return session.down({ count: 0, waiting, message: `No worker is running: ${waiting} job(s) wait until one starts.` });
      return session.up({
        count: 0,
        waiting: waiting ?? undefined,
        message: 'No worker is running: uploads wait in the queue until one starts.',
      });
    }
    if (!detailed) return session.up({ count: live.length });
    const tools = [...new Set(live.map((worker) => JSON.stringify(worker.tools)))].map((json) => JSON.parse(json) as unknown);
    return session.up({ count: live.length, media: tools.length === 1 ? tools[0] : tools });
  }

  private result(key: string, probe: ProbeResult) {
    const session = this.indicator.check(key);
    if (probe.status === 'up') return session.up({ ms: probe.ms, ...(probe.message ? { message: probe.message } : {}) });
    return session.down({ ms: probe.ms, message: probe.message ?? 'down' });
  }
}
