import { Controller, Get, Header, Headers, Module, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Response } from 'express';
import { AppConfig } from '../config/app-config';
import { mayScrapeMetrics } from '../metrics/metrics-access';
import { MetricsRegistry } from '../metrics/metrics-registry';

/**
 * Prometheus text at /metrics (outside /api). With METRICS_TOKEN set, only for `Bearer <token>`;
 * anyone else gets the contract's 404 (answered here, so a process without the api's error filter,
 * the worker, gives the same body).
 */
@ApiExcludeController()
@Controller('metrics')
export class MetricsController {
  constructor(
    private readonly metrics: MetricsRegistry,
    private readonly config: AppConfig,
  ) {}

  @Get()
  @Header('Cache-Control', 'no-store')
  async scrape(@Headers('authorization') authorization: string | undefined, @Res() res: Response): Promise<void> {
    if (!mayScrapeMetrics(authorization, this.config.http.metricsToken)) {
      res.status(404).json({ statusCode: 404, error: 'Not Found', message: 'Not found' });
      return;
    }
    res.setHeader('Content-Type', this.metrics.contentType);
    res.send(await this.metrics.metrics());
  }
}

/**
 * The HTTP face every process shares: `/metrics` of its own registry. The api mounts it beside its
 * routes; a worker serves it (with its `/health`) on WORKER_METRICS_PORT, on the same Nest HTTP
 * stack instead of a server of its own.
 */
@Module({ controllers: [MetricsController] })
export class MetricsHttpModule {}
