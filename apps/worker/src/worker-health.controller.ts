import { Controller, Get, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import { AppConfig, mayScrapeMetrics } from '@app/core';
import { DependencyProbes } from '@app/jobs';
import { MediaTools } from '@app/processors';

/**
 * A worker's `/health` on WORKER_METRICS_PORT: its database, Redis, storage and ffmpeg; 200 when all
 * are up, 503 otherwise. The ffmpeg's path, version and decoders only for whoever may read `/metrics`.
 */
@Controller('health')
export class WorkerHealthController {
  constructor(
    private readonly probes: DependencyProbes,
    private readonly tools: MediaTools,
    private readonly config: AppConfig,
  ) {}

  @Get()
  async check(@Req() req: Request, @Res() res: Response): Promise<void> {
    const detailed = mayScrapeMetrics(req.headers.authorization, this.config.http.metricsToken);
    const details = { ...(await this.probes.all()), ffmpeg: { status: 'up', ...(detailed ? this.tools.describe() : {}) } };
    const ok = Object.values(details).every((probe) => probe.status === 'up');
    res.status(ok ? 200 : 503).json({ status: ok ? 'ok' : 'error', details });
  }
}
