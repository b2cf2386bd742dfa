import { Logger, OnApplicationBootstrap } from '@nestjs/common';
import { OnGatewayConnection, OnGatewayDisconnect, OnGatewayInit, WebSocketGateway, WebSocketServer } from '@nestjs/websockets';
import type { Server, Socket } from 'socket.io';
import { ApiKeysService, AuthService, AuthUser, isApiKey, SessionsService } from '@app/auth';
import { JobEvents, JobStatusMessage } from '@app/jobs';
import { MAX_SOCKETS_PER_USER, SOCKET_EVENTS, SOCKET_TOO_MANY, SOCKET_UNAUTHORIZED } from '@app/shared';
import { JobViewMapper } from '@app/jobs';

interface SocketState {
  user: AuthUser;
  expiry?: NodeJS.Timeout;
  /**
   * Re-checks that the socket's credential still stands: an API key not revoked, a sign-in not
   * ended (on another api instance: this one closes them at once).
   */
  recheck?: NodeJS.Timeout;
}

/** How often a socket checks that its API key was not revoked, or its sign-in ended, elsewhere. */
const RECHECK_MS = 10_000;

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
    private readonly apiKeys: ApiKeysService,
    sessions: SessionsService,
  ) {
    // A key revoked, or a sign-out, through this instance closes its sockets here at once.
    this.apiKeys.revocations.on('revoked', (keyId: string) => this.closeSockets((user) => user.apiKey?.id === keyId));
    sessions.ended.on('ended', (sessionId: string) => this.closeSockets((user) => user.sessionId === sessionId));
  }

  afterInit(server: Server): void {
    server.use((socket, next) => {
      const token: unknown = socket.handshake.auth?.token;
      if (typeof token !== 'string' || token.length === 0 || token.length > 4096) return next(new Error(SOCKET_UNAUTHORIZED));
      if (isApiKey(token)) {
        // An API key needs the read scope to follow its user's jobs.
        this.apiKeys.authenticate(token).then(
          (user) => {
            if (!user?.apiKey?.scopes.includes('read')) return next(new Error(SOCKET_UNAUTHORIZED));
            if (this.full(user.id)) return next(new Error(SOCKET_TOO_MANY));
            const keyId = user.apiKey.id;
            const state: SocketState = { user };
            state.recheck = this.recheck(socket, async () => !(await this.apiKeys.exists(keyId)));
            socket.data = state;
            next();
          },
          () => next(new Error(SOCKET_UNAUTHORIZED)),
        );
        return;
      }
      this.auth.verifyToken(token).then(
        (user) => {
          if (!user) return next(new Error(SOCKET_UNAUTHORIZED));
          if (this.full(user.id)) return next(new Error(SOCKET_TOO_MANY));
          const state: SocketState = { user };
          const seconds = this.auth.expiresInSeconds(token);
          // Timers longer than ~24.8 days overflow; tokens do not live that long, but be safe.
          state.expiry = setTimeout(() => this.expire(socket), Math.min(seconds * 1000, 2 ** 31 - 1));
          const sessionId = user.sessionId;
          if (sessionId) state.recheck = this.recheck(socket, () => this.auth.sessionEnded(sessionId));
          socket.data = state;
          next();
        },
        () => next(new Error(SOCKET_UNAUTHORIZED)),
      );
    });
  }

  /**
   * Whether the user has MAX_SOCKETS_PER_USER sockets open here already: each holds memory and,
   * with an API key, re-checks the key every 10 s, so one token must not open them by the hundred.
   */
  private full(userId: string): boolean {
    return (this.server.sockets.adapter.rooms.get(roomOf(userId))?.size ?? 0) >= MAX_SOCKETS_PER_USER;
  }

  onApplicationBootstrap(): void {
    // Not awaited: with Redis down at start the api still starts (uploads wait in the database,
    // health says Redis is down); the subscription is made once Redis answers.
    this.events
      .subscribe(
        (message) => this.forward(message),
        // Only this instance's sockets: each api instance has its own subscription to lose.
        () => this.server.local.emit(SOCKET_EVENTS.resync),
      )
      .catch((error: Error) => this.logger.warn(`Status events not subscribed: ${error.message}`));
  }

  handleConnection(socket: Socket): void {
    const { user } = socket.data as SocketState;
    void socket.join(roomOf(user.id));
  }

  handleDisconnect(socket: Socket): void {
    clearTimeout((socket.data as SocketState | undefined)?.expiry);
    clearInterval((socket.data as SocketState | undefined)?.recheck);
  }

  private forward(message: JobStatusMessage): void {
    this.server.to(roomOf(message.userId)).emit(SOCKET_EVENTS.jobStatus, this.views.toEvent(message));
  }

  /** Every RECHECK_MS: closes the socket once `gone` says its credential no longer stands. */
  private recheck(socket: Socket, gone: () => Promise<boolean>): NodeJS.Timeout {
    const timer = setInterval(() => {
      gone().then(
        (isGone) => isGone && this.expire(socket),
        () => undefined,
      );
    }, RECHECK_MS);
    timer.unref();
    return timer;
  }

  private closeSockets(match: (user: AuthUser) => boolean): void {
    for (const socket of this.server.sockets.sockets.values()) {
      const user = (socket.data as SocketState | undefined)?.user;
      if (user && match(user)) this.expire(socket);
    }
  }

  private expire(socket: Socket): void {
    if (!socket.connected) return;
    this.logger.debug(`Token of socket ${socket.id} expired; disconnecting`);
    socket.emit(SOCKET_EVENTS.sessionExpired);
    socket.disconnect(true);
  }
}
