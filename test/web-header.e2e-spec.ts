import type { Page, Request } from 'playwright-core';
import { browserSuite, OpenedPage, PageDocument, signUp } from './support/browser';
import { solid } from './support/media';

jest.setTimeout(240_000);

// The page's globals, in code run in the browser.
declare const document: PageDocument;

/** `GET /api/jobs` itself (a page of the library), not `/api/jobs/stats` or one job. */
const isJobsPage = (request: Request): boolean => request.method() === 'GET' && new URL(request.url()).pathname === '/api/jobs';

/**
 * The frame around the library in headless Chromium against the built api and a worker on real
 * Redis and SQLite: the header's keyboard order, what the library asks the API for when it opens,
 * and the counts above the grid keeping up with it.
 */
describe('web app header and library start (Chromium, real api and worker)', () => {
  const suite = browserSuite();

  async function open(): Promise<OpenedPage> {
    const page = await suite.open();
    return page;
  }

  async function connected(page: Page, timeout = 30_000): Promise<void> {
    await page.locator('[data-testid="connection-indicator"][data-state="connected"]').waitFor({ timeout });
  }

  it('stops once on each control of the header when tabbing through it', async () => {
    const { page } = await open();
    const email = await signUp(page, suite.stack.baseUrl, 'tab-order');
    await connected(page);
    await page.getByTestId('jobs-empty').waitFor();
    // From the top of the document: the skip link first, then the header's controls, then the page.
    await page.evaluate(() => (document.activeElement as unknown as { blur(): void } | null)?.blur());
    const visited: string[] = [];
    for (let i = 0; i < 20; i += 1) {
      await page.keyboard.press('Tab');
      // A stand-in swapped for its menu moves the focus a moment after the key: let it settle.
      await page.waitForTimeout(150);
      const stop = await page.evaluate(() => {
        const element = document.activeElement;
        if (!element) return null;
        const inHeader = element.closest('header') !== null || element.getAttribute('class')?.includes('skip-link') === true;
        const name = element.getAttribute('aria-label') ?? element.textContent?.replace(/\s+/g, ' ').trim() ?? '';
        return { inHeader, name };
      });
      if (!stop?.inHeader) break;
      visited.push(stop.name);
    }
    expect(visited).toEqual(['Skip to content', 'Thumbs, library', 'Library', 'Trash', 'Upload', `Account: ${email}`]);
  });

  it('reads the first page of the library once when it opens, and again after a real reconnection', async () => {
    const { page } = await open();
    await signUp(page, suite.stack.baseUrl, 'first-read');
    await connected(page);
    // The page signed up on has read its own first page: only the reloaded page's reads are counted.
    await page.getByTestId('jobs-empty').waitFor();
    const reads: string[] = [];
    page.on('request', (request) => {
      if (isJobsPage(request)) reads.push(request.url());
    });
    // A fresh start of the app on the library, signed in.
    await page.reload();
    await page.getByTestId('jobs-empty').waitFor();
    await connected(page);
    // A second read would go out as the connection comes up, which is behind us now: a moment for
    // its request event to reach the test.
    await page.waitForTimeout(1000);
    expect(reads).toHaveLength(1);

    // The api goes away and comes back: the page reads the first page again for what it missed.
    await suite.stack.api!.stop();
    await page
      .locator('[data-testid="connection-indicator"]:is([data-state="reconnecting"],[data-state="offline"])')
      .waitFor({ timeout: 30_000 });
    await suite.stack.startApi();
    await connected(page, 60_000);
    const deadline = Date.now() + 30_000;
    while (reads.length < 2 && Date.now() < deadline) await page.waitForTimeout(100);
    expect(reads).toHaveLength(2);
  });
  it('moves the counts above the grid in the same frame as the grid: an upload finishing, a delete, its undo', async () => {
    const { page } = await open();
    await signUp(page, suite.stack.baseUrl, 'counts');
    await connected(page);
    await page.getByTestId('jobs-empty').waitFor();
    await page.locator('[data-testid="status-filter-completed"] .count').waitFor();
    /** The counts in the first frame (polled every animation frame) in which `shown` holds for the grid. */
    const countsWhen = async (shown: 'completed' | 'gone' | 'back') => {
      const handle = await page.waitForFunction(
        (wanted) => {
          const tile = document.querySelector('[data-testid="job-tile"]');
          const ready = wanted === 'gone' ? tile === null : tile?.getAttribute('data-status') === 'completed';
          if (!ready) return null;
          return {
            total: document.querySelector('[data-testid="job-count"]')?.textContent?.trim() ?? null,
            completed: document.querySelector('[data-testid="status-filter-completed"] .count')?.textContent?.trim() ?? null,
          };
        },
        shown,
        { timeout: 60_000, polling: 'raf' },
      );
      return handle.jsonValue();
    };

    const image = await solid(320, 240, '#8e44ad').jpeg().toBuffer();
    await page.getByTestId('file-input').setInputFiles([{ name: 'counted.jpg', mimeType: 'image/jpeg', buffer: image }]);
    expect(await countsWhen('completed')).toEqual({ total: '1 job', completed: '1' });

    await page.getByTestId('select-toggle').click();
    await page.getByTestId('bulk-delete').click();
    expect(await countsWhen('gone')).toEqual({ total: '0 jobs', completed: '0' });

    await page.getByRole('button', { name: 'Undo' }).click();
    expect(await countsWhen('back')).toEqual({ total: '1 job', completed: '1' });
  });
});
