/**
 * @jest-environment-options {"customExportConditions": ["node", "require", "default"]}
 */
// The adapter against a real Socket.IO server in this process (node builds of client and server).
import { ApplicationRef, effect, signal } from '@angular/core';
import { TestBed } from '@angular/core/testing';
import { SOCKET_EVENTS, SOCKET_UNAUTHORIZED, type JobStatusEvent } from '@app/shared';
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Socket } from 'ngx-socket-io';
import { filter, firstValueFrom, Observable, take, toArray } from 'rxjs';
import { Server, type Socket as ServerSocket } from 'socket.io';
import type { ConnectionState } from './connection-state';
import { SocketIoJobSocket } from './socket-io-job-socket';

const VALID = new Set(['token-1', 'token-2']);

describe('SocketIoJobSocket (real Socket.IO server)', () => {
  let httpServer: HttpServer;
  let io: Server;
  let url: string;
  let handshakes: unknown[];
  let adapter: SocketIoJobSocket;
  let states: ConnectionState[];

  beforeEach(async () => {
    handshakes = [];
    httpServer = createServer();
    io = new Server(httpServer);
    io.use((socket, next) => {
      handshakes.push(socket.handshake.auth);
      const token = (socket.handshake.auth as { token?: unknown }).token;
      next(typeof token === 'string' && VALID.has(token) ? undefined : new Error(SOCKET_UNAUTHORIZED));
    });
    await new Promise<void>((resolve) => httpServer.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(httpServer.address() as AddressInfo).port}`;

    TestBed.configureTestingModule({
      providers: [
        {
          provide: Socket,
          useFactory: () =>
            new Socket(
              { url, options: { autoConnect: false, transports: ['websocket'], reconnectionDelay: 20, reconnectionDelayMax: 50 } },
              TestBed.inject(ApplicationRef),
            ),
        },
        SocketIoJobSocket,
      ],
    });
    adapter = TestBed.inject(SocketIoJobSocket);
    states = [];
    adapter.state$.subscribe((state) => states.push(state));
  });

  afterEach(async () => {
    adapter.disconnect();
    TestBed.resetTestingModule();
    await new Promise<void>((resolve) => io.close(() => resolve()));
  });

  const next = <T>(source: Observable<T>, predicate: (value: T) => boolean = () => true) => firstValueFrom(source.pipe(filter(predicate)));
  const serverSocket = () => next(fromConnection(io));

  it('connects with the token of the moment and delivers job:status events', async () => {
    const connected = serverSocket();
    adapter.connect(() => 'token-1');
    const socket = await connected;
    await next(adapter.state$, (state) => state === 'connected');
    expect(handshakes).toEqual([{ token: 'token-1' }]);

    const received = firstValueFrom(adapter.statusEvents$.pipe(take(2), toArray()));
    const events: JobStatusEvent[] = [
      { jobId: 'j1', userId: 'u1', status: 'processing', timestamp: 1 },
      { jobId: 'j1', userId: 'u1', status: 'completed', thumbnailUrl: '/api/thumbnails/j1.jpg?sig=x', timestamp: 2 },
    ];
    for (const event of events) socket.emit(SOCKET_EVENTS.jobStatus, event);
    expect(await received).toEqual(events);
    expect(states).toEqual(['offline', 'reconnecting', 'connected']);
  });

  it('reports a refused token as unauthorized and goes offline', async () => {
    const refused = firstValueFrom(adapter.unauthorized$);
    adapter.connect(() => 'expired');
    await refused;
    await next(adapter.state$, (state) => state === 'offline');
    expect(states).toEqual(['offline', 'reconnecting', 'offline']);
  });

  it('reports the session ending on the server (token expired) as unauthorized', async () => {
    const connected = serverSocket();
    adapter.connect(() => 'token-1');
    const socket = await connected;
    await next(adapter.state$, (state) => state === 'connected');
    const ended = firstValueFrom(adapter.unauthorized$);
    socket.emit(SOCKET_EVENTS.sessionExpired);
    socket.disconnect(true);
    await ended;
    await next(adapter.state$, (state) => state === 'offline');
  });

  it('reconnects by itself after the connection drops, with the token current at that time', async () => {
    let token = 'token-1';
    const first = serverSocket();
    adapter.connect(() => token);
    const socket = await first;
    await next(adapter.state$, (state) => state === 'connected');

    token = 'token-2';
    const second = serverSocket();
    socket.conn.close(); // the transport dies, as when the api restarts
    await next(adapter.state$, (state) => state === 'reconnecting');
    await second;
    await next(adapter.state$, (state) => state === 'connected');

    expect(handshakes).toEqual([{ token: 'token-1' }, { token: 'token-2' }]);
  });

  it('disconnects on request and stays offline', async () => {
    const connected = serverSocket();
    adapter.connect(() => 'token-1');
    const socket = await connected;
    await next(adapter.state$, (state) => state === 'connected');

    const gone = new Promise<string>((resolve) => socket.on('disconnect', resolve));
    adapter.disconnect();
    expect(await gone).toBe('client namespace disconnect');
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(states.at(-1)).toBe('offline');
    expect(io.sockets.sockets.size).toBe(0);
  });

  it('can be disconnected from an effect, that is during change detection (no recursive tick)', async () => {
    const connected = serverSocket();
    adapter.connect(() => 'token-1');
    await connected;
    await next(adapter.state$, (state) => state === 'connected');

    const signedIn = signal(true);
    TestBed.runInInjectionContext(() => effect(() => (signedIn() ? undefined : adapter.disconnect())));
    TestBed.tick();
    signedIn.set(false);
    expect(() => TestBed.inject(ApplicationRef).tick()).not.toThrow();
    expect(states.at(-1)).toBe('offline');
  });

  it('connecting again while connected starts a new session (a new sign-in)', async () => {
    const first = serverSocket();
    adapter.connect(() => 'token-1');
    await first;
    await next(adapter.state$, (state) => state === 'connected');

    const second = serverSocket();
    adapter.connect(() => 'token-2');
    await second;
    await next(adapter.state$, (state) => state === 'connected');
    expect(handshakes).toEqual([{ token: 'token-1' }, { token: 'token-2' }]);
    expect(io.sockets.sockets.size).toBe(1);
  });
});

function fromConnection(io: Server): Observable<ServerSocket> {
  return new Observable<ServerSocket>((subscriber) => {
    const listener = (socket: ServerSocket) => subscriber.next(socket);
    io.on('connection', listener);
    return () => io.off('connection', listener);
  });
}
