import { Controller, Get, Header, Headers, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Response } from 'express';
import { AppConfig, mayScrapeMetrics, MetricsRegistry, NotFoundError } from '@app/core';

/** Prometheus text at /metrics (outside /api). With METRICS_TOKEN set, only for `Bearer <token>`. */
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
    if (!mayScrapeMetrics(authorization, this.config.http.metricsToken)) throw new NotFoundError('Not found');
    res.setHeader('Content-Type', this.metrics.contentType);
    res.send(await this.metrics.metrics());
  }
}
