import { io, Socket } from 'socket.io-client';
import type { JobStatusEvent } from '@app/shared';

interface Finished {
  status: 'completed' | 'failed';
  /** performance.now() when the event arrived at this client. */
  at: number;
  errorMessage?: string;
  thumbnailUrl?: string;
}

/**
 * Socket.IO clients (one per user, as the web app has) that timestamp every `job:status`
 * completed/failed event on arrival, and let the bench wait for a set of jobs to finish.
 */
export class StatusFeed {
  private readonly sockets: Socket[] = [];
  readonly finished = new Map<string, Finished>();
  private waiters: { ids: Set<string>; resolve: () => void; reject: (error: Error) => void }[] = [];
  events = 0;

  async connect(baseUrl: string, token: string): Promise<void> {
    const socket = io(baseUrl, { path: '/socket.io', transports: ['websocket'], reconnection: false, auth: { token }, forceNew: true });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('connect_error', reject);
    });
    socket.on('job:status', (event: JobStatusEvent) => this.onEvent(event));
    this.sockets.push(socket);
  }

  private onEvent(event: JobStatusEvent): void {
    this.events += 1;
    if (event.status !== 'completed' && event.status !== 'failed') return;
    if (this.finished.has(event.jobId)) return;
    this.finished.set(event.jobId, {
      status: event.status,
      at: performance.now(),
      errorMessage: event.errorMessage,
      thumbnailUrl: event.thumbnailUrl,
    });
    for (const waiter of [...this.waiters]) {
      if (!waiter.ids.has(event.jobId)) continue;
      if (event.status === 'failed') {
        this.waiters = this.waiters.filter((other) => other !== waiter);
        waiter.reject(new Error(`job ${event.jobId} failed: ${event.errorMessage ?? ''}`));
        continue;
      }
      waiter.ids.delete(event.jobId);
      if (waiter.ids.size === 0) {
        this.waiters = this.waiters.filter((other) => other !== waiter);
        waiter.resolve();
      }
    }
  }

  /** Resolves when every job has completed (rejects if one fails or time runs out). */
  waitCompleted(jobIds: readonly string[], timeoutMs = 600_000): Promise<void> {
    const ids = new Set<string>();
    for (const id of jobIds) {
      const done = this.finished.get(id);
      if (done?.status === 'failed') return Promise.reject(new Error(`job ${id} failed: ${done.errorMessage ?? ''}`));
      if (!done) ids.add(id);
    }
    if (ids.size === 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((other) => other.ids !== ids);
        reject(new Error(`${ids.size} of ${jobIds.length} jobs not completed within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.push({
        ids,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      });
    });
  }

  completedAt(jobId: string): number {
    const done = this.finished.get(jobId);
    if (!done || done.status !== 'completed') throw new Error(`job ${jobId} has not completed`);
    return done.at;
  }

  close(): void {
    for (const socket of this.sockets) socket.close();
    this.sockets.length = 0;
  }
}
