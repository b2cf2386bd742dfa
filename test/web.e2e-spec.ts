import * as fs from 'node:fs';
import * as path from 'node:path';
import { Browser, chromium, Page } from 'playwright-core';
import sharp from 'sharp';
import { smallVideos } from './support/ffmpeg';
import { media } from './support/media';
import { TestStack } from './support/stack';

jest.setTimeout(240_000);

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const OUTPUT = path.resolve(__dirname, '../test-output/web');

/**
 * The whole product in headless Chromium: the built web app served by the built api at `/`, a
 * built worker, Redis and SQLite. Screenshots of the dashboard go to test-output/web/.
 */
describe('web app end to end (Chromium)', () => {
  let stack: TestStack;
  let browser: Browser;
  const consoleErrors: string[] = [];

  beforeAll(async () => {
    if (!fs.existsSync(CHROMIUM)) {
      throw new Error(
        `The browser tests need Chromium at ${CHROMIUM} (Debian: apt-get install chromium), or CHROMIUM_PATH pointing at one.`,
      );
    }
    fs.mkdirSync(OUTPUT, { recursive: true });
    stack = await TestStack.start({ workers: 1 });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
  });

  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
  });

  async function openPage(): Promise<Page> {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
    const page = await context.newPage();
    page.on('console', (message) => {
      if (message.type() === 'error') consoleErrors.push(message.text());
    });
    page.on('pageerror', (error) => consoleErrors.push(error.message));
    return page;
  }

  const row = (page: Page, name: string) => page.locator('[data-testid="job-row"]', { hasText: name });

  it('signs up, uploads an image, a video and a broken file at once, watches them live, downloads, retries, deletes, signs out', async () => {
    const page = await openPage();
    await page.goto(stack.baseUrl);
    await page.waitForURL(/\/login/);
    await page.getByTestId('register-link').click();
    await page.waitForURL(/\/register/);
    const email = `e2e-${Date.now()}@example.com`;
    await page.getByTestId('register-email').fill(email);
    await page.getByTestId('register-password').fill('short');
    await page.getByTestId('register-submit').click();
    // Validation before anything is sent.
    await expectVisible(page.getByText(/at least 8/i).first());
    await page.getByTestId('register-password').fill('correct horse battery');
    await page.getByTestId('register-submit').click();
    await page.waitForURL(/\/dashboard/);
    await page.getByTestId('account-menu').click();
    await expectVisible(page.getByTestId('user-email').filter({ hasText: email }));
    await page.keyboard.press('Escape');
    await page.locator('[data-testid="connection-indicator"][data-state="connected"]').waitFor();
    // The list view (the grid is the default; test/web-library covers it).
    await page.getByTestId('view-list').click();
    await page.waitForURL(/view=list/);

    const [video] = smallVideos(['clip-audio.mp4']);
    const image = await media.jpeg(800, 600, '#2e86de');
    const broken = media.brokenJpeg();
    await page.getByTestId('file-input').setInputFiles([
      { name: 'holiday.jpg', mimeType: 'image/jpeg', buffer: image.data },
      { name: 'clip.mp4', mimeType: 'video/mp4', buffer: video.data },
      { name: 'broken.jpg', mimeType: 'image/jpeg', buffer: broken.data },
    ]);
    // Every badge moves to its final state live, without a reload.
    const navigations: string[] = [];
    page.on('framenavigated', (frame) => navigations.push(frame.url()));
    await row(page, 'holiday.jpg').and(page.locator('[data-status="completed"]')).waitFor({ timeout: 60_000 });
    await row(page, 'clip.mp4').and(page.locator('[data-status="completed"]')).waitFor({ timeout: 60_000 });
    await row(page, 'broken.jpg').and(page.locator('[data-status="failed"]')).waitFor({ timeout: 60_000 });
    expect(navigations).toEqual([]);
    await page.screenshot({ path: path.join(OUTPUT, 'dashboard.png'), fullPage: true });

    // Previews appear and really are 128×128 images.
    for (const name of ['holiday.jpg', 'clip.mp4']) {
      const img = row(page, name).getByTestId('thumbnail');
      await img.waitFor();
      await page.waitForFunction(
        (el) => (el as unknown as LoadedImage).complete && (el as unknown as LoadedImage).naturalWidth > 0,
        await img.elementHandle(),
      );
      expect(
        await img.evaluate((el) => [(el as unknown as LoadedImage).naturalWidth, (el as unknown as LoadedImage).naturalHeight]),
      ).toEqual([128, 128]);
    }
    // The failure says why.
    await expectVisible(row(page, 'broken.jpg').getByTestId('job-error'));
    expect(await row(page, 'broken.jpg').getByTestId('job-error').innerText()).toMatch(/image/i);

    // Download the thumbnail.
    const [download] = await Promise.all([page.waitForEvent('download'), row(page, 'holiday.jpg').getByTestId('download-link').click()]);
    expect(download.suggestedFilename()).toBe('holiday-thumb.jpg');
    const saved = path.join(OUTPUT, download.suggestedFilename());
    await download.saveAs(saved);
    expect(await sharp(saved).metadata()).toMatchObject({ format: 'jpeg', width: 128, height: 128 });

    // A file a retry cannot fix: no Retry, and the row says what to do instead (its title has the whole text).
    expect(await row(page, 'broken.jpg').getByTestId('retry-button').count()).toBe(0);
    expect(await row(page, 'broken.jpg').getByTestId('job-error').getAttribute('title')).toMatch(/upload the complete file again/i);

    // Filter by status.
    await page.getByTestId('status-filter-failed').click();
    await row(page, 'holiday.jpg').waitFor({ state: 'detached' });
    await expectVisible(row(page, 'broken.jpg'));
    await page.getByTestId('status-filter-all').click();
    await expectVisible(row(page, 'holiday.jpg'));

    // Delete the video (to the trash, with Undo: no confirmation).
    await row(page, 'clip.mp4').getByTestId('delete-button').click();
    await row(page, 'clip.mp4').waitFor({ state: 'detached' });

    // A reload keeps the session and the list.
    await page.reload();
    await expectVisible(row(page, 'holiday.jpg'));
    expect(await row(page, 'clip.mp4').count()).toBe(0);
    await page.screenshot({ path: path.join(OUTPUT, 'dashboard-after.png'), fullPage: true });

    await page.getByTestId('account-menu').click();
    await page.getByTestId('logout-button').click();
    await page.waitForURL(/\/login/);
    await page.goto(`${stack.baseUrl}/dashboard`);
    await page.waitForURL(/\/login/);
    expect(consoleErrors.filter((text) => !/Failed to load resource.*(401|404)/.test(text))).toEqual([]);
  });

  it('catches up after losing the live connection: a job finished while the api was down shows as done', async () => {
    const page = await openPage();
    await page.goto(`${stack.baseUrl}/register`);
    await page.getByTestId('register-email').fill(`resync-${Date.now()}@example.com`);
    await page.getByTestId('register-password').fill('correct horse battery');
    await page.getByTestId('register-submit').click();
    await page.waitForURL(/\/dashboard/);
    await page.locator('[data-testid="connection-indicator"][data-state="connected"]').waitFor();
    await page.getByTestId('view-list').click();
    const slow = await media.slowPng('slow.png');
    // Another grey: the same content again would be refused as a duplicate.
    const slow2 = await media.slowPng('slow.png', '#7f7f7f');
    // Two slow files of one user: the second waits for the first, so it runs while the api is away.
    // One after the other: picked together they go up in parallel, and the user's queue takes them
    // in the order their uploads finish, which is either.
    await page.getByTestId('file-input').setInputFiles([{ name: 'first.png', mimeType: 'image/png', buffer: slow.data }]);
    await row(page, 'first.png').and(page.locator('[data-status="processing"]')).waitFor({ timeout: 60_000 });
    await page.getByTestId('file-input').setInputFiles([{ name: 'second.png', mimeType: 'image/png', buffer: slow2.data }]);
    await row(page, 'second.png').and(page.locator('[data-status="queued"]')).waitFor({ timeout: 60_000 });
    // The api goes away (a restart, a deploy): the page notices; the worker carries on meanwhile.
    await stack.api!.stop();
    await page
      .locator('[data-testid="connection-indicator"]:is([data-state="reconnecting"],[data-state="offline"])')
      .waitFor({ timeout: 30_000 });
    expect(await row(page, 'second.png').getAttribute('data-status')).toBe('queued');
    await new Promise((resolve) => setTimeout(resolve, 6000));
    await stack.startApi();
    // Back: the socket reconnects and the page re-reads what it missed, without a reload.
    await page.locator('[data-testid="connection-indicator"][data-state="connected"]').waitFor({ timeout: 60_000 });
    await row(page, 'second.png').and(page.locator('[data-status="completed"]')).waitFor({ timeout: 60_000 });
    await row(page, 'second.png').getByTestId('thumbnail').waitFor();
  });

  it('shows the API’s errors on the sign-in page', async () => {
    const page = await openPage();
    await page.goto(`${stack.baseUrl}/login`);
    await page.getByTestId('login-email').fill('nobody@example.com');
    await page.getByTestId('login-password').fill('wrong password');
    await page.getByTestId('login-submit').click();
    await expectVisible(page.getByTestId('login-error').filter({ hasText: 'Invalid email or password' }));
    await page.screenshot({ path: path.join(OUTPUT, 'login-error.png') });
  });

  it('serves Swagger UI at /api/docs under the same security headers', async () => {
    const page = await openPage();
    await page.goto(`${stack.baseUrl}/api/docs`);
    await page.getByText('/api/upload').first().waitFor({ timeout: 30_000 });
    await page.screenshot({ path: path.join(OUTPUT, 'api-docs.png') });
  });
});

/** The bits of an <img> element read in the page (the test compiles without DOM typings). */
interface LoadedImage {
  complete: boolean;
  naturalWidth: number;
  naturalHeight: number;
}

async function expectVisible(locator: { waitFor(options?: { state?: 'visible'; timeout?: number }): Promise<void> }): Promise<void> {
  await locator.waitFor({ state: 'visible', timeout: 30_000 });
}
