import { Logger, OnApplicationBootstrap } from '@nestjs/common';
import { OnGatewayConnection, OnGatewayDisconnect, OnGatewayInit, WebSocketGateway, WebSocketServer } from '@nestjs/websockets';
import type { Server, Socket } from 'socket.io';
import { AuthService, AuthUser } from '@app/auth';
import { JobEvents, JobStatusMessage } from '@app/jobs';
import { SOCKET_EVENTS, SOCKET_UNAUTHORIZED } from '@app/shared';
import { JobViewMapper } from '@app/jobs';

interface SocketState {
  user: AuthUser;
  expiry?: NodeJS.Timeout;
}

/** Socket.IO room of one user's sockets (on this api instance). */
function roomOf(userId: string): string {
  return `user:${userId}`;
}

/**
 * Live job status. The handshake must carry a valid access token (`auth: { token }`); the socket
 * joins its user's room and is disconnected when the token expires. Every api instance subscribes
 * to the status channel on Redis and emits to its own sockets only, so with any number of
 * instances each socket gets each of its user's events exactly once, in the order published.
 */
@WebSocketGateway()
export class JobsGateway implements OnGatewayInit, OnGatewayConnection, OnGatewayDisconnect, OnApplicationBootstrap {
  private readonly logger = new Logger(JobsGateway.name);

  @WebSocketServer()
  private server!: Server;

  constructor(
    private readonly auth: AuthService,
    private readonly events: JobEvents,
    private readonly views: JobViewMapper,
  ) {}

  afterInit(server: Server): void {
    server.use((socket, next) => {
      const token: unknown = socket.handshake.auth?.token;
      if (typeof token !== 'string' || token.length === 0 || token.length > 4096) return next(new Error(SOCKET_UNAUTHORIZED));
      this.auth.verifyToken(token).then(
        (user) => {
          if (!user) return next(new Error(SOCKET_UNAUTHORIZED));
          const state: SocketState = { user };
          const seconds = this.auth.expiresInSeconds(token);
          // Timers longer than ~24.8 days overflow; tokens do not live that long, but be safe.
          state.expiry = setTimeout(() => this.expire(socket), Math.min(seconds * 1000, 2 ** 31 - 1));
          socket.data = state;
          next();
        },
        () => next(new Error(SOCKET_UNAUTHORIZED)),
      );
    });
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.events.subscribe((message) => this.forward(message));
  }

  handleConnection(socket: Socket): void {
    const { user } = socket.data as SocketState;
    void socket.join(roomOf(user.id));
  }

  handleDisconnect(socket: Socket): void {
    clearTimeout((socket.data as SocketState | undefined)?.expiry);
  }

  private forward(message: JobStatusMessage): void {
    this.server.to(roomOf(message.userId)).emit(SOCKET_EVENTS.jobStatus, this.views.toEvent(message));
  }

  private expire(socket: Socket): void {
    if (!socket.connected) return;
    this.logger.debug(`Token of socket ${socket.id} expired; disconnecting`);
    socket.emit(SOCKET_EVENTS.sessionExpired);
    socket.disconnect(true);
  }
}
