import { provideHttpClient } from '@angular/common/http';
import { HttpTestingController, provideHttpClientTesting } from '@angular/common/http/testing';
import { createEnvironmentInjector, DestroyRef, EnvironmentInjector } from '@angular/core';
import { TestBed } from '@angular/core/testing';
import { WORKER_HEALTH_TIMING, WorkerHealth } from './worker-health';

describe('WorkerHealth', () => {
  let health: WorkerHealth;
  let http: HttpTestingController;

  beforeEach(() => {
    TestBed.configureTestingModule({
      providers: [
        provideHttpClient(),
        provideHttpClientTesting(),
        { provide: WORKER_HEALTH_TIMING, useValue: { firstMs: 0, everyMs: 20 } },
      ],
    });
    health = TestBed.inject(WorkerHealth);
    http = TestBed.inject(HttpTestingController);
  });

  afterEach(() => http.verify());

  function answer(status: number, body: object | string): boolean | undefined {
    let down: boolean | undefined;
    health.check().subscribe((value) => (down = value));
    const request = http.expectOne('/api/health');
    request.flush(body, { status, statusText: status === 200 ? 'OK' : 'Service Unavailable' });
    return down;
  }

  it('reads 503 with workers down as no worker running', () => {
    expect(answer(503, { status: 'error', details: { workers: { status: 'down', count: 0, waiting: 2 } } })).toBe(true);
  });

  it('reads ok, another dependency down, or no answer as not that', () => {
    expect(answer(200, { status: 'ok', details: { workers: { status: 'up', count: 0 } } })).toBe(false);
    expect(answer(503, { status: 'error', details: { redis: { status: 'down' }, workers: { status: 'up' } } })).toBe(false);
    expect(answer(502, 'Bad Gateway')).toBe(false);
    let down: boolean | undefined;
    health.check().subscribe((value) => (down = value));
    http.expectOne('/api/health').error(new ProgressEvent('error'));
    expect(down).toBe(false);
  });

  it('watches until destroyed, following what the server says', async () => {
    const injector = createEnvironmentInjector([], TestBed.inject(EnvironmentInjector));
    health.watch(injector.get(DestroyRef));
    const flushNext = async (status: number, workers: string) => {
      for (let i = 0; i < 100; i += 1) {
        const [request] = http.match('/api/health');
        if (request) return request.flush({ details: { workers: { status: workers } } }, { status, statusText: 'x' });
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      throw new Error('no health request');
    };
    await flushNext(503, 'down');
    expect(health.workersDown()).toBe(true);
    await flushNext(200, 'up');
    expect(health.workersDown()).toBe(false);
    injector.destroy();
    http.match('/api/health'); // one may have started before: it is cancelled
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(http.match('/api/health').filter((request) => !request.cancelled)).toEqual([]);
  });
});
