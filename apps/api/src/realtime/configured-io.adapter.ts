import type { INestApplicationContext } from '@nestjs/common';
import { IoAdapter } from '@nestjs/platform-socket.io';
import type { Server, ServerOptions } from 'socket.io';
import { AppConfig } from '@app/core';

/**
 * Socket.IO server options from the runtime config (decorator arguments cannot read it):
 * CORS only for CORS_ORIGINS (same origin otherwise), small messages, quick dead-peer detection.
 */
export class ConfiguredIoAdapter extends IoAdapter {
  constructor(
    app: INestApplicationContext,
    private readonly config: AppConfig,
  ) {
    super(app);
  }

  override createIOServer(port: number, options?: ServerOptions): Server {
    const origins = this.config.http.corsOrigins;
    return super.createIOServer(port, {
      ...options,
      path: '/socket.io',
      serveClient: false,
      cors: origins.length > 0 ? { origin: [...origins], credentials: false } : undefined,
      maxHttpBufferSize: 16 * 1024,
      pingInterval: 20_000,
      pingTimeout: 20_000,
    }) as Server;
  }
}
