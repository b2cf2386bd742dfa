import { io, Socket } from 'socket.io-client';
import type { JobStatusEvent } from '@app/shared';

/** A real Socket.IO client of a running api, recording every `job:status` it gets. */
export class StatusSocket {
  readonly events: JobStatusEvent[] = [];
  readonly socket: Socket;

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.on('job:status', (event: JobStatusEvent) => this.events.push(event));
  }

  /** Connects (websocket transport, no retries) and resolves once connected, or rejects with the connect_error. */
  static connect(baseUrl: string, token: string | undefined): Promise<StatusSocket> {
    const socket = io(baseUrl, {
      path: '/socket.io',
      transports: ['websocket'],
      reconnection: false,
      auth: token === undefined ? {} : { token },
      forceNew: true,
    });
    return new Promise((resolve, reject) => {
      socket.once('connect', () => resolve(new StatusSocket(socket)));
      socket.once('connect_error', (error) => {
        socket.close();
        reject(error);
      });
    });
  }

  /** Resolves when an event matching `match` has arrived (past or future). */
  async waitFor(match: (event: JobStatusEvent) => boolean, timeoutMs = 20_000): Promise<JobStatusEvent> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const found = this.events.find(match);
      if (found) return found;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    throw new Error(`no matching job:status event within ${timeoutMs} ms; got ${JSON.stringify(this.events.slice(-5))}`);
  }

  close(): void {
    this.socket.close();
  }
}
