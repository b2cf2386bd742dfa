import { EnvironmentInjector } from '@angular/core';
import { TestBed } from '@angular/core/testing';
import type { JobStatusEvent } from '@app/shared';
import { FakeJobSocket } from '../../testing/fake-job-socket';
import type { ConnectionState } from './connection-state';
import { LazyJobSocket } from './lazy-job-socket';

// The chunk with Socket.IO's client, replaced by one that records the sockets it makes.
const loads = { created: [] as FakeJobSocket[] };
jest.mock('./socket-io-loader', () => {
  return {
    createSocketIoJobSocket: (parent: EnvironmentInjector) => {
      const socket = parent.runInContext(() => new FakeJobSocket());
      loads.created.push(socket);
      return socket;
    },
  };
});

const flush = () => new Promise((resolve) => setTimeout(resolve, 0));

describe('LazyJobSocket', () => {
  let lazy: LazyJobSocket;
  let states: ConnectionState[];

  beforeEach(() => {
    jest.resetModules();
    loads.created = [];
    TestBed.configureTestingModule({ providers: [LazyJobSocket] });
    lazy = TestBed.inject(LazyJobSocket);
    states = [];
    lazy.state$.subscribe((state) => states.push(state));
  });

  it('loads nothing and stays offline until asked to connect', async () => {
    lazy.disconnect();
    await flush();
    expect(loads.created).toHaveLength(0);
    expect(states).toEqual(['offline', 'offline']);
  });

  it('loads the socket at the first connect, connects it with the token source, then relays it', async () => {
    const events: JobStatusEvent[] = [];
    let refused = 0;
    lazy.statusEvents$.subscribe((event) => events.push(event));
    lazy.unauthorized$.subscribe(() => (refused += 1));

    lazy.connect(() => 'token-1');
    expect(states).toEqual(['offline', 'reconnecting']);
    await flush();
    expect(loads.created).toHaveLength(1);
    const socket = loads.created[0];
    expect(socket.connectCalls).toBe(1);
    expect(socket.token).toBe('token-1');

    socket.setState('connected');
    const event = { jobId: 'j1', status: 'completed' } as unknown as JobStatusEvent;
    socket.emit(event);
    socket.refuseToken();
    expect(states.at(-2)).toBe('connected');
    expect(states.at(-1)).toBe('offline');
    expect(events).toEqual([event]);
    expect(refused).toBe(1);

    lazy.connect(() => 'token-2');
    lazy.disconnect();
    await flush();
    expect(loads.created).toHaveLength(1);
    expect(socket.connectCalls).toBe(2);
    expect(socket.disconnectCalls).toBe(1);
  });

  it('does not connect when a disconnect came before the chunk', async () => {
    lazy.connect(() => 'token-1');
    lazy.disconnect();
    expect(states.at(-1)).toBe('offline');
    await flush();
    expect(loads.created).toHaveLength(1);
    expect(loads.created[0].connectCalls).toBe(0);
  });
});
