import * as path from 'node:path';
import { writeFile } from 'node:fs/promises';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import sharp from 'sharp';
import type { AuthResult, JobPage } from '@app/shared';
import { StorageKeys } from '@app/storage';
import { DiskStorageDriver } from '@app/storage/adapters';
import { launchChromium, PageDocument } from '../../test/support/browser';
import { benchEnv, Row, startStack, stopStack } from '../lib/context';
import type { Tiny } from '../lib/media';
import { getJson, sendJson, upload } from '../lib/multipart';
import { log, median, round, sleep } from '../lib/util';
import { insertJobs } from './data';

/** Jobs of the user whose library is scrolled. */
const SCROLL_JOBS = 10_000;
/** Photos of the user whose first load is measured (a screenful and more). */
const LIBRARY_PHOTOS = 60;
/** Warm reloads measured (median reported). */
const WARM_RUNS = 5;
const INITIAL_TARGET_BYTES = 150_000;
const LONG_TASK_MS = 50;

declare const document: PageDocument & { scrollingElement: { scrollTop: number; scrollHeight: number } };
declare const window: { innerHeight: number; scrollBy(x: number, y: number): void; scrollTo(x: number, y: number): void };
declare const performance: {
  getEntriesByName(name: string): { startTime: number }[];
};
declare function requestAnimationFrame(callback: () => void): void;

interface Transfer {
  /** Compressed body bytes of the app's own files (HTML, JS, CSS, icons). */
  app: number;
  /** The same with their HTTP headers. */
  appOnTheWire: number;
  api: number;
  images: number;
  files: number;
}

/**
 * Section 7 (web): the built web app served by the built api, in headless Chromium.
 *  - initial transfer (compressed, as sent) of a cold first load: the sign-in page, and the library
 *    of a signed-in user down to its first thumbnail; app assets (HTML, JS, CSS, icons) apart from
 *    API answers and thumbnails;
 *  - first contentful paint and time to the first thumbnail on a warm cache (median of reloads);
 *  - long tasks while scrolling a library of 10,000 jobs: first while its pages are read on the
 *    way down, then through all of them loaded.
 */
export async function webSection(tiny: Tiny[], rows: Row[], raw: Record<string, unknown>): Promise<void> {
  const stack = await startStack({ workers: 1, env: benchEnv() });
  const browser = await launchChromium();
  try {
    const base = stack.baseUrl;
    const viewer = await signUp(base, 'web');
    for (const image of tiny.slice(0, LIBRARY_PHOTOS)) {
      const result = await upload(base, viewer.accessToken, image.source);
      if (result.status !== 201) throw new Error(`upload failed: ${result.status}`);
    }
    await waitForJobs(base, viewer.accessToken, LIBRARY_PHOTOS);
    log(`web: ${LIBRARY_PHOTOS} photos ready`);

    // ── cold loads ────────────────────────────────────────────────────────────────
    const login = await coldLoad(browser, `${base}/login`, null, (page) => page.getByTestId('login-submit').waitFor());
    const library = await coldLoad(browser, `${base}/dashboard`, viewer, (page) => firstThumbnail(page));
    log(
      `web: cold sign-in page ${login.app} B of app assets; library ${library.app} B (+ ${library.api} B API, ${library.images} B images)`,
    );

    // ── warm reloads ──────────────────────────────────────────────────────────────
    const context = await signedInContext(browser, viewer);
    const page = await context.newPage();
    await page.goto(`${base}/dashboard`);
    await firstThumbnail(page);
    const fcp: number[] = [];
    const thumbnail: number[] = [];
    for (let run = 0; run < WARM_RUNS; run += 1) {
      await page.reload();
      await firstThumbnail(page);
      const timing = await page.evaluate(() => ({
        fcp: performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? NaN,
      }));
      fcp.push(timing.fcp);
      thumbnail.push(await firstThumbnailTime(page));
    }
    await context.close();
    log(`web: warm FCP ${round(median(fcp))} ms, first thumbnail ${round(median(thumbnail))} ms`);

    // ── 10,000 jobs ───────────────────────────────────────────────────────────────
    const heavy = await signUp(base, 'web-heavy');
    await insertJobs(path.join(stack.dir, 'thumbs.db'), heavy.user.id, SCROLL_JOBS);
    await writeThumbnails(path.join(stack.dir, 'files'), base, heavy.accessToken);
    log(`web: ${SCROLL_JOBS} jobs with thumbnails in place`);
    const scroll = await scrollLibrary(browser, base, heavy);
    log(
      `web: scrolled ${scroll.loaded} jobs in ${round(scroll.downSeconds)} s down (${scroll.down.length} long tasks, max ${round(Math.max(0, ...scroll.down))} ms), ${round(scroll.upSeconds)} s up (${scroll.up.length}, max ${round(Math.max(0, ...scroll.up))} ms)`,
    );

    const s7 = '8 web';
    const over = (tasks: number[]) => tasks.filter((ms) => ms > LONG_TASK_MS).length;
    rows.push(
      {
        section: s7,
        metric: `initial transfer, sign-in page (cold; app files, compressed bodies; ${login.files} files, ${round(login.appOnTheWire / 1000, 1)} kB with headers)`,
        value: round(login.app / 1000, 1),
        unit: 'kB',
        target: '≤ 150',
        pass: login.app <= INITIAL_TARGET_BYTES,
      },
      {
        section: s7,
        metric: `initial transfer, library to its first thumbnail (cold; app files, compressed bodies; ${library.files} files, ${round(library.appOnTheWire / 1000, 1)} kB with headers; API answers ${round(library.api / 1000, 1)} kB and thumbnails ${round(library.images / 1000, 1)} kB besides)`,
        value: round(library.app / 1000, 1),
        unit: 'kB',
        target: '≤ 150',
        pass: library.app <= INITIAL_TARGET_BYTES,
      },
      {
        section: s7,
        metric: `first contentful paint, library, warm cache (median of ${WARM_RUNS})`,
        value: round(median(fcp)),
        unit: 'ms',
      },
      {
        section: s7,
        metric: `first thumbnail shown, library, warm cache (median of ${WARM_RUNS})`,
        value: round(median(thumbnail)),
        unit: 'ms',
      },
      {
        section: s7,
        metric: `long tasks > ${LONG_TASK_MS} ms scrolling ${SCROLL_JOBS.toLocaleString('en')} jobs while their pages load (${scroll.pages} pages; longest ${round(Math.max(0, ...scroll.down))} ms)`,
        value: over(scroll.down),
        unit: 'tasks',
      },
      {
        section: s7,
        metric: `long tasks > ${LONG_TASK_MS} ms scrolling through all ${SCROLL_JOBS.toLocaleString('en')} jobs loaded (longest ${round(Math.max(0, ...scroll.up))} ms)`,
        value: over(scroll.up),
        unit: 'tasks',
        target: 'none',
        pass: over(scroll.up) === 0,
      },
    );
    raw.web = { login, library, fcp, thumbnail, scroll };
  } finally {
    await browser.close();
    await stopStack(stack);
  }
}

async function signUp(base: string, label: string): Promise<AuthResult> {
  const email = `bench-${label}-${Date.now().toString(36)}@example.com`;
  const { status, body } = await sendJson<AuthResult>(base, 'POST', '/api/auth/register', { email, password: 'correct horse battery' });
  if (status !== 201) throw new Error(`register failed: ${status}`);
  return body;
}

async function waitForJobs(base: string, token: string, count: number): Promise<void> {
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    const { body } = await getJson<JobPage>(base, `/api/jobs?limit=200&status=completed`, token);
    if (body.items.length >= count) return;
    await sleep(200);
  }
  throw new Error('the photos were not processed in time');
}

/** A context whose pages start signed in (the session the app keeps in localStorage). */
async function signedInContext(browser: Browser, auth: AuthResult | null): Promise<BrowserContext> {
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
  if (auth) {
    const session = { token: auth.accessToken, expiresAt: Date.now() + auth.expiresIn * 1000, user: auth.user };
    await context.addInitScript((value) => localStorage.setItem('thumbs.session', value), JSON.stringify(session));
  }
  return context;
}
declare const localStorage: { setItem(key: string, value: string): void };

/**
 * A first visit (a fresh browser context: empty cache) until `ready`: compressed body bytes
 * (Resource Timing's encodedBodySize) and bytes on the wire with headers (transferSize), by kind.
 */
async function coldLoad(
  browser: Browser,
  url: string,
  auth: AuthResult | null,
  ready: (page: Page) => Promise<unknown>,
): Promise<Transfer> {
  const context = await signedInContext(browser, auth);
  const page = await context.newPage();
  await page.goto(url);
  await ready(page);
  await page.waitForLoadState('networkidle');
  const entries = await page.evaluate<{ name: string; encodedBodySize: number; transferSize: number }[]>(
    `[...performance.getEntriesByType('navigation'), ...performance.getEntriesByType('resource')].map((entry) => ({
      name: entry.name, encodedBodySize: entry.encodedBodySize, transferSize: entry.transferSize }))`,
  );
  await context.close();
  const transfer: Transfer = { app: 0, appOnTheWire: 0, api: 0, images: 0, files: 0 };
  for (const entry of entries) {
    const pathname = new URL(entry.name).pathname;
    if (pathname.startsWith('/api/thumbnails')) transfer.images += entry.encodedBodySize;
    else if (pathname.startsWith('/api/') || pathname.startsWith('/socket.io')) transfer.api += entry.encodedBodySize;
    else {
      transfer.app += entry.encodedBodySize;
      transfer.appOnTheWire += entry.transferSize;
      transfer.files += 1;
    }
  }
  return transfer;
}

async function firstThumbnail(page: Page): Promise<void> {
  await page.waitForFunction(
    () => {
      const img = document.querySelector('[data-testid="job-tile"] img[data-testid="thumbnail"]') as unknown as {
        complete: boolean;
        naturalWidth: number;
      } | null;
      return !!img && img.complete && img.naturalWidth > 0;
    },
    undefined,
    { timeout: 60_000 },
  );
}

/** When the first thumbnail was painted (Element Timing of the tiles' images), ms after navigation start. */
async function firstThumbnailTime(page: Page): Promise<number> {
  // Plain JavaScript: Node's performance typings know neither entry type.
  return page.evaluate<number>(`new Promise((resolve) => {
    new PerformanceObserver((list) => resolve(Math.min(...list.getEntries().map((entry) => entry.renderTime || entry.loadTime))))
      .observe({ type: 'element', buffered: true });
  })`);
}

/** Thumbnails for the inserted jobs (one small JPEG, stored under each job's key), through the disk driver. */
async function writeThumbnails(root: string, base: string, token: string): Promise<void> {
  const storage = new DiskStorageDriver(root);
  const jpeg = await sharp({ create: { width: 128, height: 128, channels: 3, background: '#4a7bd0' } })
    .jpeg()
    .toBuffer();
  let cursor: string | null = null;
  do {
    const query: string = `/api/jobs?limit=200&status=completed${cursor ? `&cursor=${cursor}` : ''}`;
    const { body } = await getJson<JobPage>(base, query, token);
    await Promise.all(body.items.map((job) => storage.put(StorageKeys.thumbnail(job.id), jpeg, { contentType: 'image/jpeg' })));
    cursor = body.nextCursor;
  } while (cursor);
}

interface ScrollResult {
  loaded: number;
  pages: number;
  down: number[];
  up: number[];
  downSeconds: number;
  upSeconds: number;
}

/** Scrolls to the oldest job (pages load on the way), then back to the top; long tasks of each pass. */
async function scrollLibrary(browser: Browser, base: string, auth: AuthResult): Promise<ScrollResult> {
  const context = await signedInContext(browser, auth);
  const page = await context.newPage();
  let pages = 0;
  page.on('request', (request) => {
    if (new URL(request.url()).pathname === '/api/jobs') pages += 1;
  });
  // What the page says went wrong, so that a stalled scroll tells an app error from a starved browser.
  page.on('pageerror', (error) => log(`web: page error while scrolling: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error') log(`web: console error while scrolling: ${message.text()}`);
  });
  await page.goto(`${base}/dashboard`);
  await firstThumbnail(page);
  await page.evaluate(`(() => {
    globalThis.longTasks = [];
    new PerformanceObserver((list) => globalThis.longTasks.push(...list.getEntries().map((entry) => entry.duration))).observe({ type: 'longtask' });
  })()`);
  const takeLongTasks = () =>
    page.evaluate(() => {
      const state = globalThis as unknown as { longTasks: number[] };
      return state.longTasks.splice(0);
    });
  const pass = async (direction: 1 | -1): Promise<{ tasks: number[]; seconds: number }> => {
    await takeLongTasks();
    const started = Date.now();
    for (;;) {
      const state = await withTimeout(
        page.evaluate(async (step) => {
          for (let frame = 0; frame < 20; frame += 1) {
            window.scrollBy(0, step);
            await new Promise<void>((resolve) => requestAnimationFrame(() => resolve()));
          }
          const scroller = document.scrollingElement;
          return {
            top: scroller.scrollTop,
            bottom: scroller.scrollTop + window.innerHeight >= scroller.scrollHeight - 2,
            count: document.querySelector('[data-testid="job-count"]')?.textContent ?? '',
            more: !!document.querySelector('[data-testid="load-more"]'),
          };
        }, direction * 300),
        60_000,
        'a scroll step',
      );
      if (direction === -1 && state.top === 0) break;
      if (direction === 1 && state.bottom && !state.more) break;
      if (Date.now() - started > 300_000) throw new Error(`scrolling did not finish: ${JSON.stringify(state)}`);
    }
    await sleep(500);
    return { tasks: await takeLongTasks(), seconds: (Date.now() - started) / 1000 };
  };
  const down = await pass(1);
  // "10,000 jobs": what the library holds now (this server has no counts, so it counts what it read).
  const loaded = Number((await page.getByTestId('job-count').innerText()).replace(/\D/g, ''));
  const up = await recorded(browser, context, page, () => pass(-1));
  await context.close();
  return { loaded, pages, down: down.tasks, up: up.tasks, downSeconds: down.seconds, upSeconds: up.seconds };
}

/**
 * `run`, recorded on request for finding what makes a long task: a Chromium trace of the page
 * (`THUMBS_WEB_TRACE=<file>`, the main thread's tasks and what they did, for Perfetto or DevTools)
 * and a JavaScript CPU profile (`THUMBS_WEB_CPUPROFILE=<file>`, 0.2 ms samples, for DevTools; build
 * the web app with `--source-map` to read its functions). Recording slows the page: its long-task
 * counts are not the bench's.
 */
async function recorded<T>(browser: Browser, context: BrowserContext, page: Page, run: () => Promise<T>): Promise<T> {
  const tracePath = process.env.THUMBS_WEB_TRACE;
  const profilePath = process.env.THUMBS_WEB_CPUPROFILE;
  if (tracePath) {
    await browser.startTracing(page, { path: tracePath, categories: ['devtools.timeline', 'disabled-by-default-devtools.timeline', 'v8'] });
  }
  const cdp = profilePath ? await context.newCDPSession(page) : null;
  if (cdp) {
    await cdp.send('Profiler.enable');
    await cdp.send('Profiler.setSamplingInterval', { interval: 200 });
    await cdp.send('Profiler.start');
  }
  try {
    return await run();
  } finally {
    if (tracePath) await browser.stopTracing();
    if (cdp && profilePath) await writeFile(profilePath, JSON.stringify((await cdp.send('Profiler.stop')).profile));
  }
}

/** `promise`, or an error naming `what` after `ms` (a starved browser must not hang the bench). */
function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} took over ${ms / 1000} s`)), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}
