import { Injectable } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { MetricsRegistry } from '@app/core';
import { JobQueue, JobsService, WorkerRegistry } from '@app/jobs';
import type { FileType, RejectionCode } from '@app/shared';
import type { Gauge } from 'prom-client';

/**
 * What the api exposes at /metrics besides process metrics: HTTP request durations, uploads
 * and bytes, and, read when scraped, jobs by status and type (database), queue depth (Redis) and
 * live workers (their heartbeats). Workers expose their own timings on their metrics port.
 */
@Injectable()
export class ApiMetrics {
  private readonly http;
  private readonly uploads;
  private readonly uploadBytes;
  private readonly rejections;
  private readonly idleTimeouts;

  constructor(
    metrics: MetricsRegistry,
    private readonly jobs: JobsService,
    private readonly queue: JobQueue,
    private readonly workers: WorkerRegistry,
  ) {
    this.http = metrics.histogram({
      name: 'thumbs_http_request_duration_seconds',
      help: 'HTTP requests handled by the api, by method, route and status',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    });
    this.uploads = metrics.counter({
      name: 'thumbs_uploads_total',
      help: 'Files accepted by uploads, by file type',
      labelNames: ['file_type'],
    });
    this.uploadBytes = metrics.counter({
      name: 'thumbs_upload_bytes_total',
      help: 'Bytes of accepted uploaded files, by file type',
      labelNames: ['file_type'],
    });
    this.rejections = metrics.counter({
      name: 'thumbs_upload_rejections_total',
      help: 'Uploaded files rejected, by reason',
      labelNames: ['code'],
    });

    this.idleTimeouts = metrics.counter({
      name: 'thumbs_upload_idle_timeouts_total',
      help: 'Uploads aborted because their body brought no byte for UPLOAD_IDLE_TIMEOUT_MS',
    });

    const jobsGauge: Gauge<'status' | 'file_type'> = metrics.gauge({
      name: 'thumbs_jobs',
      help: 'Jobs in the database by status and file type',
      labelNames: ['status', 'file_type'],
      collect: async (): Promise<void> => {
        jobsGauge.reset();
        for (const row of await this.jobs.countByStatusAndType()) jobsGauge.set({ status: row.status, file_type: row.fileType }, row.count);
      },
    });
    const depth: Gauge<'state'> = metrics.gauge({
      name: 'thumbs_queue_depth',
      help: 'Jobs on the queue: BullMQ states, plus "backlog" waiting behind their user’s current job',
      labelNames: ['state'],
      collect: async (): Promise<void> => {
        for (const [state, count] of Object.entries(await this.queue.depth())) depth.set({ state }, count);
      },
    });
    const live: Gauge = metrics.gauge({
      name: 'thumbs_workers',
      help: 'Worker processes with a live heartbeat',
      collect: async (): Promise<void> => {
        live.set((await this.workers.list()).length);
      },
    });
  }

  recordUpload(fileType: FileType, bytes: number): void {
    this.uploads.inc({ file_type: fileType });
    this.uploadBytes.inc({ file_type: fileType }, bytes);
  }

  recordRejection(code: RejectionCode): void {
    this.rejections.inc({ code });
  }

  recordIdleTimeout(): void {
    this.idleTimeouts.inc();
  }

  /** Express middleware timing every request, labelled with its route pattern (not the raw path). */
  readonly middleware = (req: Request, res: Response, next: NextFunction): void => {
    const end = this.http.startTimer();
    res.once('finish', () => {
      const pattern = (req.route as { path?: string } | undefined)?.path;
      const route = pattern
        ? `${req.baseUrl}${pattern}`
        : req.path.startsWith('/api')
          ? 'unmatched'
          : req.path.startsWith('/socket.io')
            ? '/socket.io'
            : 'static';
      end({ method: req.method, route, status: String(res.statusCode) });
    });
    next();
  };
}
