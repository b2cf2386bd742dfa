import { Controller, Get, Res } from '@nestjs/common';
import type { Response } from 'express';
import { DependencyProbes } from '@app/jobs';
import { MediaTools } from '@app/processors';

/** A worker's `/health` on WORKER_METRICS_PORT: its database, Redis, storage and ffmpeg; 200 when all are up, 503 otherwise. */
@Controller('health')
export class WorkerHealthController {
  constructor(
    private readonly probes: DependencyProbes,
    private readonly tools: MediaTools,
  ) {}

  @Get()
  async check(@Res() res: Response): Promise<void> {
    const details = { ...(await this.probes.all()), ffmpeg: { status: 'up', ...this.tools.describe() } };
    const ok = Object.values(details).every((probe) => probe.status === 'up');
    res.status(ok ? 200 : 503).json({ status: ok ? 'ok' : 'error', details });
  }
}
