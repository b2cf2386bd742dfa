import type { Locator, Page } from 'playwright-core';
import { browserSuite, LoadedImage, PageDocument, signUp } from './support/browser';
import { smallVideos } from './support/ffmpeg';
import { solid } from './support/media';

jest.setTimeout(240_000);

// The page's globals, in code run in the browser.
declare const document: PageDocument;
declare const getComputedStyle: (element: unknown) => { visibility: string; opacity: string };

/** Larger than the preview (PREVIEW_SIZE, 1440 by default): actual size needs the original. */
const BIG = { width: 2400, height: 1600 };

interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

async function boxOf(locator: Locator): Promise<Box> {
  const box = await locator.boundingBox();
  if (!box) throw new Error('not laid out');
  return box;
}

/** Where a point of the page is on the picture, as fractions of its width and height. */
function onPicture(box: Box, point: { x: number; y: number }): { x: number; y: number } {
  return { x: (point.x - box.x) / box.width, y: (point.y - box.y) / box.height };
}

/** Waits until the picture is shown this wide (the zoom may still be moving on a busy machine). */
async function waitForWidth(page: Page, testId: string, width: number): Promise<void> {
  await page.waitForFunction(
    ([id, wanted]) => {
      const element = document.querySelector(`[data-testid="${id}"]`);
      return element !== null && Math.abs(element.getBoundingClientRect().width - wanted) < 1;
    },
    [testId, width] as const,
    { timeout: 15_000 },
  );
}

async function visibility(locator: Locator): Promise<{ visibility: string; opacity: string }> {
  return locator.evaluate((element) => {
    const style = getComputedStyle(element);
    return { visibility: style.visibility, opacity: style.opacity };
  });
}

/**
 * The viewer's zoom in headless Chromium against the built api and a worker on real Redis and
 * SQLite: fitting and actual size (the original over the preview), the wheel and pinch, dragging,
 * the keys, and a fresh start on every job.
 */
describe('web app viewer zoom (Chromium, real api and worker)', () => {
  const suite = browserSuite();

  async function open(): Promise<Page> {
    const page = await suite.open();
    // Each step lands at once (what users who ask for less motion get): sizes can be read right after.
    await page.page.emulateMedia({ reducedMotion: 'reduce' });
    return page.page;
  }

  const tile = (page: Page, name: string): Locator =>
    page.locator('[data-testid="job-tile"]', { has: page.locator(`.name:text-is("${name}")`) });

  async function openViewer(page: Page, name: string): Promise<void> {
    await tile(page, name).click();
    await page.getByTestId('viewer').waitFor();
    const image = page.getByTestId('viewer-image');
    await page.waitForFunction(
      (img) => (img as unknown as LoadedImage).complete && (img as unknown as LoadedImage).naturalWidth > 0,
      await image.elementHandle(),
    );
    await page.locator('[data-testid="viewer-frame"][data-zoom="fit"]').waitFor();
  }

  it('zooms an image from fitting to actual size and back, shows the original there, pans, and starts every job fitted', async () => {
    const page = await open();
    await signUp(page, suite.stack.baseUrl, 'zoom');
    const big = await solid(BIG.width, BIG.height, '#2e86de').jpeg().toBuffer();
    const small = await solid(400, 300, '#e74c3c').png().toBuffer();
    await page.getByTestId('file-input').setInputFiles([
      { name: 'big.jpg', mimeType: 'image/jpeg', buffer: big },
      { name: 'small.png', mimeType: 'image/png', buffer: small },
    ]);
    // A new account's first jobs, from their events, then read again for their renditions (the
    // 2× in the tile's srcset): without a reload, the viewer has their previews.
    await page
      .locator('[data-testid="job-tile"][data-status="completed"] img[data-testid="thumbnail"][srcset]')
      .nth(1)
      .waitFor({ timeout: 60_000 });

    // The original is held back for a while: the preview must stand in for it meanwhile.
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    await page.route('**/api/originals/**', async (route) => {
      await held;
      await route.continue().catch(() => undefined);
    });

    await openViewer(page, 'big.jpg');
    const frame = page.getByTestId('viewer-frame');
    const preview = page.getByTestId('viewer-image');
    const zoom = page.getByTestId('viewer-zoom');
    expect(await zoom.getAttribute('aria-label')).toBe('Actual size (double-click)');
    const frameBox = await boxOf(frame);
    const fitted = await boxOf(preview);
    // Fitted: all of it in the frame, its shape kept, touching two sides.
    expect(fitted.width).toBeLessThanOrEqual(frameBox.width + 1);
    expect(fitted.height).toBeLessThanOrEqual(frameBox.height + 1);
    expect(Math.abs(fitted.width / fitted.height - BIG.width / BIG.height)).toBeLessThan(0.01);
    expect(Math.max(fitted.width / frameBox.width, fitted.height / frameBox.height)).toBeGreaterThan(0.99);

    // Double-click: actual size (one pixel of the picture to one CSS pixel) around the pointer.
    const point = { x: fitted.x + fitted.width * 0.3, y: fitted.y + fitted.height * 0.4 };
    await page.mouse.dblclick(point.x, point.y);
    await frame.and(page.locator('[data-zoom="zoomed"]')).waitFor();
    await waitForWidth(page, 'viewer-image', BIG.width);
    const actual = await boxOf(preview);
    expect(actual.height).toBeCloseTo(BIG.height, 0);
    const under = onPicture(actual, point);
    expect(under.x).toBeCloseTo(0.3, 2);
    expect(under.y).toBeCloseTo(0.4, 2);
    expect(await page.getByTestId('viewer-zoom-level').innerText()).toBe('100%');
    expect(await zoom.getAttribute('aria-label')).toBe('Fit to the screen (0)');
    // The original is on its way: the preview is still in sight, at the same size.
    const original = page.getByTestId('viewer-original');
    await original.waitFor({ state: 'attached' });
    expect(await visibility(preview)).toEqual({ visibility: 'visible', opacity: '1' });
    expect((await visibility(original)).visibility).toBe('hidden');
    release();
    await page.waitForFunction(
      () => {
        const element = document.querySelector('[data-testid="viewer-original"]');
        return element !== null && getComputedStyle(element).visibility === 'visible';
      },
      undefined,
      { timeout: 30_000 },
    );
    expect(await original.evaluate((img) => (img as unknown as LoadedImage).naturalWidth)).toBe(BIG.width);
    const shown = await boxOf(original);
    expect(shown.width).toBeCloseTo(BIG.width, 0);
    expect(shown.x).toBeCloseTo(actual.x, 0);
    expect((await visibility(preview)).visibility).toBe('hidden');

    // The button goes back to fitting; again to actual size, centred, then a drag moves the picture.
    await zoom.click();
    await frame.and(page.locator('[data-zoom="fit"]')).waitFor();
    await waitForWidth(page, 'viewer-original', fitted.width);
    await zoom.click();
    await waitForWidth(page, 'viewer-original', BIG.width);
    const centred = await boxOf(original);
    const middle = { x: frameBox.x + frameBox.width / 2, y: frameBox.y + frameBox.height / 2 };
    await page.mouse.move(middle.x, middle.y);
    await page.mouse.down();
    await page.mouse.move(middle.x - 150, middle.y - 100, { steps: 5 });
    await page.mouse.move(middle.x - 300, middle.y - 200, { steps: 5 });
    await page.mouse.up();
    const dragged = await boxOf(original);
    expect(dragged.x - centred.x).toBeCloseTo(-300, 0);
    expect(dragged.y - centred.y).toBeCloseTo(-200, 0);
    // Not past the edge: the picture keeps covering the frame.
    await page.mouse.move(middle.x, middle.y);
    await page.mouse.down();
    await page.mouse.move(middle.x + 3000, middle.y + 3000, { steps: 5 });
    await page.mouse.up();
    const edge = await boxOf(original);
    expect(edge.x).toBeCloseTo(frameBox.x, 0);
    expect(edge.y).toBeCloseTo(frameBox.y, 0);

    // Keys: 0 fits, + and - step (from a button of the viewer; a field keeps its keys).
    await page.getByTestId('viewer-download').focus();
    await page.keyboard.press('0');
    await frame.and(page.locator('[data-zoom="fit"]')).waitFor();
    await page.keyboard.press('+');
    await frame.and(page.locator('[data-zoom="zoomed"]')).waitFor();
    await waitForWidth(page, 'viewer-original', fitted.width * 1.5);
    await page.keyboard.press('-');
    await frame.and(page.locator('[data-zoom="fit"]')).waitFor();

    // The wheel zooms around the pointer; a pinch (ctrl+wheel) too.
    const aim = { x: fitted.x + fitted.width * 0.7, y: fitted.y + fitted.height * 0.25 };
    await page.mouse.move(aim.x, aim.y);
    await page.mouse.wheel(0, -200);
    await frame.and(page.locator('[data-zoom="zoomed"]')).waitFor();
    const wheeled = await boxOf(original);
    expect(wheeled.width).toBeGreaterThan(fitted.width * 1.2);
    expect(onPicture(wheeled, aim).x).toBeCloseTo(0.7, 2);
    expect(onPicture(wheeled, aim).y).toBeCloseTo(0.25, 2);
    await page.keyboard.down('Control');
    await page.mouse.wheel(0, -40);
    await page.keyboard.up('Control');
    await page.waitForFunction(
      (before) => (document.querySelector('[data-testid="viewer-original"]')?.getBoundingClientRect().width ?? 0) > before * 1.2,
      wheeled.width,
    );
    expect(onPicture(await boxOf(original), aim).x).toBeCloseTo(0.7, 2);

    // The next job starts fitted, and so does this one when it comes back.
    // (The web app sends each file in a request of its own, so either may be the newer one.)
    const bigId = await page.getByTestId('viewer').getAttribute('data-job-id');
    const bigFirst = (await page.locator('[data-testid="job-tile"]').first().getAttribute('data-job-id')) === bigId;
    await page.keyboard.press(bigFirst ? 'ArrowRight' : 'ArrowLeft');
    await page.waitForFunction((id) => document.querySelector('[data-testid="viewer"]')?.getAttribute('data-job-id') !== id, bigId);
    await page.locator('[data-testid="viewer-frame"][data-zoom="fit"]').waitFor();
    await page.keyboard.press(bigFirst ? 'ArrowLeft' : 'ArrowRight');
    await page.waitForFunction((id) => document.querySelector('[data-testid="viewer"]')?.getAttribute('data-job-id') === id, bigId);
    await page.locator('[data-testid="viewer-frame"][data-zoom="fit"]').waitFor();
    expect(await original.count()).toBe(0);

    // Zoomed, one Esc still closes; opened again, it is fitted.
    await zoom.click();
    await frame.and(page.locator('[data-zoom="zoomed"]')).waitFor();
    await page.keyboard.press('Escape');
    await page.getByTestId('viewer').waitFor({ state: 'detached', timeout: 5000 });
    await openViewer(page, 'big.jpg');
    expect(await page.getByTestId('viewer-zoom-level').innerText()).not.toBe('100%');
  });

  it('keeps the preview when the original does not load, and offers no zoom for a video', async () => {
    const page = await open();
    await signUp(page, suite.stack.baseUrl, 'zoom-fallback');
    const big = await solid(BIG.width, BIG.height, '#27ae60').jpeg().toBuffer();
    const [video] = smallVideos(['clip-audio.mp4']);
    await page.getByTestId('file-input').setInputFiles([
      { name: 'big.jpg', mimeType: 'image/jpeg', buffer: big },
      { name: 'clip.mp4', mimeType: 'video/mp4', buffer: video.data },
    ]);
    // A new account's first jobs, from their events, then read again for their renditions (the
    // 2× in the tile's srcset): without a reload, the viewer has their previews.
    await page
      .locator('[data-testid="job-tile"][data-status="completed"] img[data-testid="thumbnail"][srcset]')
      .nth(1)
      .waitFor({ timeout: 60_000 });
    let asked = 0;
    await page.route('**/api/originals/**', async (route) => {
      asked += 1;
      await route.fulfill({ status: 404, body: '' });
    });

    await openViewer(page, 'big.jpg');
    await page.getByTestId('viewer-zoom').click();
    await waitForWidth(page, 'viewer-image', BIG.width);
    await page.getByTestId('viewer-original').waitFor({ state: 'detached', timeout: 15_000 });
    expect(asked).toBeGreaterThanOrEqual(1);
    expect(await visibility(page.getByTestId('viewer-image'))).toEqual({ visibility: 'visible', opacity: '1' });
    expect(await page.locator('[data-testid="viewer-frame"]').getAttribute('data-zoom')).toBe('zoomed');
    await page.keyboard.press('Escape');
    await page.getByTestId('viewer').waitFor({ state: 'detached', timeout: 5000 });

    await tile(page, 'clip.mp4').click();
    const player = page.getByTestId('viewer-video');
    await player.waitFor();
    expect(await page.getByTestId('viewer-zoom').count()).toBe(0);
    const before = await boxOf(player);
    await page.mouse.move(before.x + before.width / 2, before.y + before.height / 2);
    await page.mouse.wheel(0, -200);
    await page.keyboard.press('+');
    expect(await boxOf(player)).toEqual(before);
  });
});
