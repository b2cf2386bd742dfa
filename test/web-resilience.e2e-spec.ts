import type { Page } from 'playwright-core';
import { browserSuite, signUp } from './support/browser';
import { solid } from './support/media';

jest.setTimeout(240_000);

/**
 * The web app when the network or the api goes away for a moment (headless Chromium, the built app
 * served by the real api, a real worker): nothing is lost or hidden for the rest of the session.
 */
describe('web app through network and api hiccups, and the keys that must work at once (Chromium)', () => {
  const suite = browserSuite();

  async function open(viewport?: { width: number; height: number }): Promise<Page> {
    const page = await suite.open({ viewport });
    return page.page;
  }

  it('shows search, sort and the trash once the API description can be read, after it failed at first', async () => {
    const page = await open();
    let failures = 0;
    await page.route('**/api/docs-json', async (route) => {
      if (failures++ === 0) await route.fulfill({ status: 502, body: 'Bad Gateway' });
      else await route.continue();
    });
    await signUp(page, suite.stack.baseUrl, 'features');
    // Asked again (after a second), without a reload.
    await page.getByTestId('search-input').waitFor({ timeout: 15_000 });
    await page.getByTestId('nav-trash').waitFor();
    expect(failures).toBeGreaterThanOrEqual(2);
  });

  it('keeps a file picked offline before the upload tray was ever loaded, and uploads it once back online', async () => {
    const { page, context } = await suite.open();
    await signUp(page, suite.stack.baseUrl, 'offline-upload');
    await page.getByTestId('jobs-empty').or(page.locator('[role="grid"]')).first().waitFor();
    // Offline at once: no code that is not loaded yet can be fetched (the tray's included), no api.
    await page.route('**/chunk-*.js', (route) => route.abort('internetdisconnected'));
    await context.setOffline(true);
    const image = await solid(320, 240, '#2e86de').jpeg().toBuffer();
    await page.getByTestId('file-input').setInputFiles([{ name: 'offline.jpg', mimeType: 'image/jpeg', buffer: image }]);
    await page.waitForTimeout(1500);
    await page.unroute('**/chunk-*.js');
    await context.setOffline(false);
    // Back online: the tray comes with the file in it, and the upload goes through.
    const item = page.locator('[data-testid="upload-item"]', { hasText: 'offline.jpg' });
    await item.waitFor({ timeout: 30_000 });
    await page.locator('[data-testid="upload-item"][data-job-status="completed"]').waitFor({ timeout: 60_000 });
  });

  it('closes the viewer with one Esc while a toolbar button shows its tooltip', async () => {
    const page = await open();
    await signUp(page, suite.stack.baseUrl, 'viewer-escape');
    const image = await solid(320, 240, '#27ae60').jpeg().toBuffer();
    await page.getByTestId('file-input').setInputFiles([{ name: 'esc.jpg', mimeType: 'image/jpeg', buffer: image }]);
    const tile = page.locator('[data-testid="job-tile"][data-status="completed"]');
    await tile.waitFor({ timeout: 60_000 });
    await tile.click();
    const viewer = page.getByTestId('viewer');
    await viewer.waitFor();
    await page.getByTestId('viewer-delete').focus();
    await page.keyboard.press('Shift+Tab');
    await page.keyboard.press('Tab');
    // The button left behind may still be fading its own: the newest overlay is this one's.
    await page.locator('.mat-mdc-tooltip-show').last().waitFor({ timeout: 10_000 });
    await page.keyboard.press('Escape');
    await viewer.waitFor({ state: 'detached', timeout: 5000 });
    await page.waitForURL(/\/dashboard/);
  });

  it('keeps the upload tray within a phone screen: a long refusal reads on two lines, nothing scrolls sideways', async () => {
    const page = await open({ width: 390, height: 844 });
    await signUp(page, suite.stack.baseUrl, 'tray-phone');
    await page.getByTestId('file-input').setInputFiles([
      { name: `notes-${'with-a-long-name-'.repeat(4)}.txt`, mimeType: 'text/plain', buffer: Buffer.from('not a picture') },
      { name: 'b.txt', mimeType: 'text/plain', buffer: Buffer.from('nor this') },
    ]);
    await page.getByTestId('upload-message').first().waitFor();
    const [clientWidth, scrollWidth] = await page.locator('#upload-list').evaluate((list) => [list.clientWidth, list.scrollWidth]);
    const reason = (await page.getByTestId('upload-message').first().locator('..').boundingBox())!;
    // Rows as wide as the list (they were as wide as their text: 1,405 px), the reason inside the screen, on two lines.
    expect(scrollWidth).toBe(clientWidth);
    expect(reason.x + reason.width).toBeLessThanOrEqual(390);
    expect(reason.height).toBeGreaterThan(20);
  });
});
