import { BeforeApplicationShutdown, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import * as os from 'node:os';
import type { Gauge } from 'prom-client';
import { AppConfig, MetricsRegistry, newId } from '@app/core';
import { JobRunner, WorkerInfo, WorkerRegistry } from '@app/jobs';
import { MediaTools } from '@app/processors';

const HEARTBEAT_MS = 5000;

/**
 * What a worker tells the outside: a heartbeat in Redis (so the api can report live workers and
 * their ffmpeg), and its metrics (wait and processing time histograms, outcomes, failures by reason,
 * running jobs), served with `/health` on WORKER_METRICS_PORT by MetricsHttpModule and
 * WorkerHealthController (see main.ts).
 */
@Injectable()
export class WorkerObservability implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(WorkerObservability.name);
  private readonly id = `${os.hostname()}-${process.pid}-${newId().slice(-6)}`;
  private readonly startedAt = new Date().toISOString();
  private heartbeat?: NodeJS.Timeout;

  constructor(
    private readonly config: AppConfig,
    private readonly metrics: MetricsRegistry,
    private readonly runner: JobRunner,
    private readonly registry: WorkerRegistry,
    private readonly tools: MediaTools,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    this.instrument();
    await this.beat();
    this.heartbeat = setInterval(() => void this.beat(), HEARTBEAT_MS);
    this.heartbeat.unref();
  }

  async beforeApplicationShutdown(): Promise<void> {
    clearInterval(this.heartbeat);
    await this.registry.withdraw(this.id).catch(() => undefined);
  }

  private instrument(): void {
    const seconds = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];
    const wait = this.metrics.histogram({
      name: 'thumbs_job_wait_seconds',
      help: 'Time from a job being queued to a worker starting it',
      labelNames: ['file_type'],
      buckets: [0.005, ...seconds, 600, 1800],
    });
    const processing = this.metrics.histogram({
      name: 'thumbs_job_processing_seconds',
      help: 'Time a worker spent on a job, by file type and outcome',
      labelNames: ['file_type', 'outcome'],
      buckets: seconds,
    });
    const finished = this.metrics.counter({
      name: 'thumbs_jobs_finished_total',
      help: 'Jobs finished by this worker',
      labelNames: ['file_type', 'outcome'],
    });
    const failures = this.metrics.counter({
      name: 'thumbs_job_failures_total',
      help: 'Failed jobs by reason',
      labelNames: ['file_type', 'reason'],
    });
    const active: Gauge = this.metrics.gauge({
      name: 'thumbs_jobs_active',
      help: 'Jobs this worker is running now',
      collect: (): void => active.set(this.runner.activeCount),
    });
    this.runner.hooks = {
      onStarted: (job, waitMs) => {
        wait.observe({ file_type: job.fileType }, waitMs / 1000);
      },
      onFinished: (job, outcome, durationMs, reason) => {
        processing.observe({ file_type: job.fileType, outcome }, durationMs / 1000);
        finished.inc({ file_type: job.fileType, outcome });
        if (outcome === 'failed') failures.inc({ file_type: job.fileType, reason: reason ?? 'error' });
      },
    };
  }

  private async beat(): Promise<void> {
    const info: WorkerInfo = {
      id: this.id,
      host: os.hostname(),
      pid: process.pid,
      startedAt: this.startedAt,
      concurrency: this.config.worker.concurrency,
      active: this.runner.activeCount,
      tools: { ...this.tools.describe() },
    };
    await this.registry.announce(info).catch((error: Error) => this.logger.warn(`Heartbeat not sent: ${error.message}`));
  }
}
