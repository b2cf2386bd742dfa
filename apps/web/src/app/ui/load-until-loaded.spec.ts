import { loadUntilLoaded, RELOAD_EVERY_MS } from './load-until-loaded';

describe('loadUntilLoaded', () => {
  afterEach(() => jest.useRealTimers());

  it('tries a failed load again as soon as the browser is back online', async () => {
    const results = [Promise.reject(new Error('Failed to fetch dynamically imported module')), Promise.resolve('tray')];
    const load = jest.fn(() => results.shift()!);
    let loaded: string | null = null;
    loadUntilLoaded(load).subscribe((value) => (loaded = value));
    await Promise.resolve();
    await new Promise((resolve) => setTimeout(resolve));
    expect([load.mock.calls.length, loaded]).toEqual([1, null]);
    window.dispatchEvent(new Event('online'));
    await new Promise((resolve) => setTimeout(resolve));
    expect([load.mock.calls.length, loaded]).toEqual([2, 'tray']);
  });

  it('tries again every little while when the browser does not say it is online', async () => {
    jest.useFakeTimers();
    let calls = 0;
    const load = jest.fn((): Promise<string> => (++calls < 3 ? Promise.reject(new Error('offline')) : Promise.resolve('tray')));
    let loaded: string | null = null;
    loadUntilLoaded(load).subscribe((value) => (loaded = value));
    await jest.advanceTimersByTimeAsync(RELOAD_EVERY_MS - 1);
    expect(load).toHaveBeenCalledTimes(1);
    await jest.advanceTimersByTimeAsync(1 + RELOAD_EVERY_MS);
    expect([load.mock.calls.length, loaded]).toEqual([3, 'tray']);
  });
});
