import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Browser, Locator, Page } from 'playwright-core';
import sharp from 'sharp';
import {
  axeViolations,
  launchChromium,
  LoadedImage,
  openPage,
  PageDocument,
  PageElement,
  OpenedPage,
  PASSWORD,
  screenshot,
  signUp,
  VIEWPORTS,
  WEB_OUTPUT,
} from './support/browser';
import { smallVideos } from './support/ffmpeg';
import { media, solid } from './support/media';
import { TestStack } from './support/stack';

jest.setTimeout(300_000);

// The page's globals, in code run in the browser.
declare const document: PageDocument;
declare const window: { innerHeight: number };
declare const localStorage: { getItem(key: string): string | null; setItem(key: string, value: string): void };

const COLOURS = ['#2e86de', '#e74c3c', '#27ae60', '#f1c40f', '#8e44ad', '#16a085', '#d35400', '#2c3e50', '#c0392b', '#7f8c8d'];

interface Upload {
  name: string;
  mimeType: string;
  buffer: Buffer;
}

/** Every photo differs (the server refuses a user's duplicate content): its height steps with this. */
let photoSerial = 0;

async function photos(count: number, prefix = 'photo'): Promise<Upload[]> {
  return Promise.all(
    Array.from({ length: count }, async (_, i) => ({
      name: `${prefix}-${String(i + 1).padStart(2, '0')}.jpg`,
      mimeType: 'image/jpeg',
      buffer: await solid(480, 360 + (photoSerial++ % 60), COLOURS[i % COLOURS.length])
        .jpeg()
        .toBuffer(),
    })),
  );
}

const tile = (page: Page, name: string): Locator =>
  page.locator('[data-testid="job-tile"]', { has: page.locator(`.name:text-is("${name}")`) });
const tiles = (page: Page): Locator => page.getByTestId('job-tile');

/**
 * Screenshots `name-<size>-<scheme>` at the three sizes in light and dark (each after `settleMs` for
 * the layout to follow), then back to the desktop in light for the steps that follow.
 */
async function screenshotsEverywhere(page: Page, name: string, settleMs: number): Promise<void> {
  for (const [size, viewport] of Object.entries(VIEWPORTS)) {
    for (const scheme of ['light', 'dark'] as const) {
      await page.setViewportSize(viewport);
      await page.emulateMedia({ colorScheme: scheme });
      await page.waitForTimeout(settleMs);
      await screenshot(page, `${name}-${size}-${scheme}`);
    }
  }
  await page.setViewportSize(VIEWPORTS.desktop);
  await page.emulateMedia({ colorScheme: 'light' });
}

/** The names on the grid's tiles, in the library's order. */
function tileNames(page: Page): Promise<string[]> {
  return tiles(page).evaluateAll((cells: PageElement[]) => cells.map((cell) => cell.querySelector('.name')?.textContent?.trim() ?? ''));
}

async function waitForAllFinished(page: Page, count: number): Promise<void> {
  await page.waitForFunction(
    (expected) => {
      const cells = Array.from(document.querySelectorAll('[data-testid="job-tile"], [data-testid="job-row"]'));
      return cells.length === expected && cells.every((cell) => ['completed', 'failed'].includes(cell.getAttribute('data-status') ?? ''));
    },
    count,
    { timeout: 90_000 },
  );
}

async function activeTestId(page: Page): Promise<{ testId: string | null; index: string | null; jobId: string | null }> {
  return page.evaluate(() => {
    const element = document.activeElement;
    return {
      testId: element?.getAttribute('data-testid') ?? null,
      index: element?.getAttribute('data-index') ?? null,
      jobId: element?.getAttribute('data-job-id') ?? null,
    };
  });
}

/** Waits until the grid cell with this index has the focus (Angular moves it on its next tick, later on a busy machine). */
async function waitForActiveIndex(page: Page, index: string): Promise<void> {
  await page.waitForFunction((wanted) => document.activeElement?.getAttribute('data-index') === wanted, index);
}

/**
 * Closes the viewer with one Esc, even with a tooltip showing on the focused button (which the
 * CDK would otherwise give the first Esc to).
 */
async function closeViewerWithEscape(page: Page): Promise<void> {
  await page.keyboard.press('Escape');
  await page.getByTestId('viewer').waitFor({ state: 'detached', timeout: 5000 });
}

/** Presses an arrow key in the viewer once and waits (generously: a loaded machine is slow) for it to show `title`. */
async function pressForTitle(page: Page, key: string, title: string): Promise<void> {
  await page.keyboard.press(key);
  await page
    .waitForFunction((wanted) => document.querySelector('#viewer-title')?.textContent?.trim() === wanted, title, { timeout: 30_000 })
    .catch(async () => {
      const shown = await page.evaluate(() => document.querySelector('#viewer-title')?.textContent?.trim() ?? null);
      throw new Error(`after ${key} the viewer shows ${shown}, not ${title}`);
    });
}

/** Presses Tab until an element with this test id (or a grid cell, for 'cell') has the focus. */
async function tabTo(page: Page, target: string, limit = 40): Promise<void> {
  for (let i = 0; i < limit; i += 1) {
    const active = await activeTestId(page);
    if (target === 'cell' ? active.index !== null : active.testId === target) return;
    await page.keyboard.press('Tab');
  }
  throw new Error(`Tab never reached ${target}`);
}

/**
 * The web app as a media library in headless Chromium against the built api and a worker on real
 * Redis and SQLite: the grid and the list, the viewer, the upload tray, multi-select with the bulk
 * bar, a keyboard-only walk, the phone layout, an ended session; axe-core on every page; and
 * screenshots at 1440×900, 768×1024 and 390×844 in light and dark into test-output/web/.
 * Every feature of the contract is on this server (search, sort, type, trash, bulk, archives,
 * API keys, webhooks, tus), so each control is offered; the web specs cover older servers.
 */
describe('web app as a media library (Chromium, real api and worker)', () => {
  let stack: TestStack;
  let browser: Browser;
  const opened: OpenedPage[] = [];
  const violations: Record<string, string[]> = {};

  beforeAll(async () => {
    stack = await TestStack.start({ workers: 1 });
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
  });

  async function open(options: Parameters<typeof openPage>[1] = {}): Promise<Page> {
    const page = await openPage(browser, options);
    opened.push(page);
    return page.page;
  }

  async function audit(page: Page, name: string): Promise<void> {
    // Audited once the app has rendered the page (it boots after the document has loaded).
    await page.locator('main h1, main [role="grid"], main [data-testid]').first().waitFor();
    // Without a tooltip fading in or out: one that a focused or hovered control shows (after a
    // delay) is measured by axe mid-fade, in blended colours no one reads. The pointer moves off
    // and the focus leaves the control, and any tooltip is let go before the audit.
    await page.mouse.move(0, 0);
    type Focusable = { blur?: () => void; focus?: () => void };
    await page.evaluate(() => {
      const scope = globalThis as unknown as { document: { activeElement: Focusable | null }; auditFocus?: Focusable | null };
      scope.auditFocus = scope.document.activeElement;
      scope.auditFocus?.blur?.();
    });
    await page
      .locator('.mat-mdc-tooltip')
      .waitFor({ state: 'detached', timeout: 5000 })
      .catch(() => undefined);
    const found = await axeViolations(page);
    if (found.length > 0) violations[name] = found;
    // The focus goes back where it was, for the keyboard steps that follow.
    await page.evaluate(() => (globalThis as unknown as { auditFocus?: Focusable | null }).auditFocus?.focus?.());
  }

  it('shows the library as a dense grid that follows its jobs live, with the list as a toggle, filters in the URL, and nothing the server cannot do', async () => {
    const page = await open();
    await signUp(page, stack.baseUrl, 'grid');
    await page.locator('[data-testid="connection-indicator"][data-state="connected"]').waitFor();
    await audit(page, 'library (empty)');
    const [video] = smallVideos(['clip-audio.mp4']);
    await page
      .getByTestId('file-input')
      .setInputFiles([
        ...(await photos(12)),
        { name: 'clip.mp4', mimeType: 'video/mp4', buffer: video.data },
        { name: 'broken.jpg', mimeType: 'image/jpeg', buffer: media.brokenJpeg().data },
      ]);
    await waitForAllFinished(page, 14);

    // Many tiles above the fold at 1440×900 (the list showed about three).
    const visible = await page.evaluate(
      () =>
        Array.from(document.querySelectorAll('[data-testid="job-tile"]')).filter(
          (cell) => cell.getBoundingClientRect().bottom <= window.innerHeight,
        ).length,
    );
    expect(visible).toBeGreaterThanOrEqual(14);
    const first = tile(page, 'photo-01.jpg').getByTestId('thumbnail');
    await page.waitForFunction(
      (img) => (img as unknown as LoadedImage).complete && (img as unknown as LoadedImage).naturalWidth > 0,
      await first.elementHandle(),
    );
    expect(await first.evaluate((img) => (img as unknown as LoadedImage).naturalWidth)).toBe(128);
    const box = await tile(page, 'photo-01.jpg').boundingBox();
    expect(Math.abs(box!.width - box!.height)).toBeLessThanOrEqual(1);
    // Status overlay on the failed job; the video is marked as one.
    expect(await tile(page, 'broken.jpg').locator('.status').innerText()).toContain('Failed');
    await tile(page, 'clip.mp4').getByTestId('video-badge').waitFor({ state: 'attached' });

    // What this server has is offered: search, sort, type, and settings (API keys and webhooks).
    for (const id of ['search-input', 'sort-select', 'type-filter']) await page.getByTestId(id).first().waitFor({ state: 'attached' });
    await page.getByTestId('account-menu').click();
    await page.getByTestId('nav-settings').waitFor();
    await page.keyboard.press('Escape');

    await audit(page, 'library (grid)');
    await screenshotsEverywhere(page, 'grid', 300);

    // Status filter: in the URL, kept by a reload.
    await page.getByTestId('status-filter-failed').click();
    await page.waitForURL(/status=failed/);
    await tile(page, 'photo-01.jpg').waitFor({ state: 'detached' });
    expect(await tiles(page).count()).toBe(1);
    await page.reload();
    await tile(page, 'broken.jpg').waitFor();
    expect(await tiles(page).count()).toBe(1);
    expect(await page.getByTestId('status-filter-failed').getAttribute('aria-checked')).toBe('true');
    await page.getByTestId('status-filter-all').click();

    // The list, in the URL too.
    await page.getByTestId('view-list').click();
    await page.waitForURL(/view=list/);
    await page.getByTestId('job-row').first().waitFor();
    expect(await page.getByTestId('job-row').count()).toBe(14);
    expect(await page.locator('[data-testid="job-row"][data-status="failed"]').getByTestId('job-error').innerText()).toMatch(/image/i);
    await audit(page, 'library (list)');
    for (const scheme of ['light', 'dark'] as const) {
      await page.emulateMedia({ colorScheme: scheme });
      await screenshot(page, `list-desktop-${scheme}`);
    }
    await page.emulateMedia({ colorScheme: 'light' });
    await page.reload();
    await page.getByTestId('job-row').first().waitFor();
    expect(await page.getByTestId('view-list').getAttribute('aria-pressed')).toBe('true');
    await page.getByTestId('view-grid').click();
  });

  it('opens a job in the viewer (click, keys, swipes, deep link), downloads, says what to do about a failure, deletes, and gives the focus back', async () => {
    const page = await open();
    await signUp(page, stack.baseUrl, 'viewer');
    await page
      .getByTestId('file-input')
      .setInputFiles([...(await photos(4, 'view')), { name: 'broken.jpg', mimeType: 'image/jpeg', buffer: media.brokenJpeg().data }]);
    await waitForAllFinished(page, 5);
    // The library's order (newest first) is the order the server made the jobs in, and the files go
    // up three at a time: read it rather than assume the order the files were picked in. The viewer
    // starts on a photo with a job on each side.
    const order = await tileNames(page);
    const at = [1, 2, 3].find((index) => order[index] !== 'broken.jpg')!;
    const start = order[at];

    await tile(page, start).click();
    await page.waitForURL(/\/jobs\//);
    const viewer = page.getByTestId('viewer');
    await viewer.waitFor();
    expect(await viewer.getAttribute('role')).toBe('dialog');
    expect(await page.locator('#viewer-title').innerText()).toBe(start);
    const image = page.getByTestId('viewer-image');
    await page.waitForFunction(
      (img) => (img as unknown as LoadedImage).complete && (img as unknown as LoadedImage).naturalWidth > 0,
      await image.elementHandle(),
    );
    expect(await page.title()).toBe(`${start} · Thumbs`);
    expect(await page.getByTestId('viewer-details').innerText()).toMatch(/Image \(image\/jpeg\)/);
    await audit(page, 'viewer');
    await screenshotsEverywhere(page, 'viewer', 200);

    // Focus stays inside while it is open.
    for (let i = 0; i < 12; i += 1) {
      await page.keyboard.press('Tab');
      expect(await page.evaluate(() => !!document.activeElement?.closest('[data-testid="viewer"]'))).toBe(true);
    }
    // Arrow keys in the library's order (newest first): → is older. From a button of the viewer (a
    // field or a player keeps its arrow keys for itself).
    await page.getByTestId('viewer-download').focus();
    await pressForTitle(page, 'ArrowRight', order[at + 1]);
    await pressForTitle(page, 'ArrowLeft', start);
    await pressForTitle(page, 'ArrowLeft', order[at - 1]);
    // A swipe to the left is "next".
    const stage = page.locator('.stage');
    await stage.dispatchEvent('pointerdown', { pointerType: 'touch', clientX: 600, clientY: 400, isPrimary: true });
    await stage.dispatchEvent('pointerup', { pointerType: 'touch', clientX: 300, clientY: 410, isPrimary: true });
    await page.waitForFunction((wanted) => document.querySelector('#viewer-title')?.textContent?.trim() === wanted, start);

    // Download the thumbnail from the viewer.
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('viewer-download').click()]);
    expect(download.suggestedFilename()).toBe(start.replace(/\.jpg$/, '-thumb.jpg'));
    const saved = path.join(WEB_OUTPUT, 'viewer-download.jpg');
    await download.saveAs(saved);
    expect(await sharp(saved).metadata()).toMatchObject({ format: 'jpeg', width: 128, height: 128 });

    // Esc closes; the focus is on the tile of the job shown last.
    const shown = await viewer.getAttribute('data-job-id');
    // One Esc, with the download button's tooltip showing.
    await closeViewerWithEscape(page);
    await page.waitForURL(/\/dashboard/);
    await page.waitForFunction((id) => document.activeElement?.getAttribute('data-job-id') === id, shown);

    // A deep link opens the viewer over the library; a failed job says why and can be retried.
    const brokenId = await tile(page, 'broken.jpg').getAttribute('data-job-id');
    await page.goto(`${stack.baseUrl}/jobs/${brokenId}`);
    await viewer.waitFor();
    expect(await page.getByTestId('viewer-error').innerText()).toMatch(/image/i);
    // A retry cannot fix a damaged file: none offered, and what to do instead.
    expect(await page.getByTestId('viewer-retry').count()).toBe(0);
    expect(await page.getByTestId('viewer-advice').innerText()).toMatch(/upload the complete file again/i);
    // Delete from the viewer (to the trash, with Undo: no confirmation); it moves on to another job.
    await page.getByTestId('viewer-delete').click();
    await page.waitForFunction((id) => document.querySelector('[data-testid="viewer"]')?.getAttribute('data-job-id') !== id, brokenId);
    await page.keyboard.press('Escape');
    await tile(page, 'broken.jpg').waitFor({ state: 'detached' });
    expect(await tiles(page).count()).toBe(4);
    // In the trash it can still be restored; once deleted for good, its link says it is gone.
    const permanent = await page.evaluate(async (id) => {
      const { token } = JSON.parse(localStorage.getItem('thumbs.session')!) as { token: string };
      return (await fetch(`/api/jobs/${id}?permanent=true`, { method: 'DELETE', headers: { authorization: `Bearer ${token}` } })).status;
    }, brokenId);
    expect(permanent).toBe(204);
    await page.goto(`${stack.baseUrl}/jobs/${brokenId}`);
    await page.getByTestId('viewer-gone').waitFor();
  });

  it('uploads through the tray: overall progress, waiting files not progressing, each row following its job, cancel one and all, folding away; folders', async () => {
    const page = await open();
    await signUp(page, stack.baseUrl, 'tray');
    // Hold the upload requests so the tray can be seen mid-way.
    let release!: () => void;
    let gate = new Promise<void>((resolve) => (release = resolve));
    await page.route('**/api/upload', async (route) => {
      await gate;
      await route.continue().catch(() => undefined);
    });
    await page.getByTestId('file-input').setInputFiles(await photos(6, 'tray'));
    const tray = page.getByTestId('upload-tray');
    await tray.waitFor();
    await page.getByTestId('upload-summary').filter({ hasText: 'Uploading · 0 of 6 done' }).waitFor();
    await page.getByTestId('upload-detail').waitFor();
    const waiting = page.locator('[data-testid="upload-item"][data-state="waiting"]');
    expect(await waiting.count()).toBe(3);
    expect(await waiting.getByTestId('upload-progress').count()).toBe(0);
    await screenshot(page, 'tray-uploading-desktop-light');
    await audit(page, 'upload tray');
    await waiting.last().getByTestId('upload-cancel').click();
    release();
    await page.locator('[data-testid="upload-item"][data-job-status="completed"]').nth(4).waitFor({ timeout: 60_000 });
    expect(await page.locator('[data-testid="upload-item"][data-state="cancelled"]').count()).toBe(1);
    await page.getByTestId('upload-summary').filter({ hasText: '5 uploaded' }).waitFor();
    await tray
      .locator('[data-expanded="false"]')
      .or(page.locator('[data-testid="upload-tray"][data-expanded="false"]'))
      .waitFor({ timeout: 15_000 });
    await screenshot(page, 'tray-folded-desktop-light');
    await page.getByTestId('clear-finished').click();
    await tray.waitFor({ state: 'detached' });

    // Cancel all.
    gate = new Promise<void>((resolve) => (release = resolve));
    await page.getByTestId('file-input').setInputFiles(await photos(4, 'cancel'));
    // The picked files join the tray once read; then Cancel all stops every one of them.
    await page.locator('[data-testid="upload-item"]').nth(3).waitFor();
    await page.getByTestId('upload-cancel-all').click();
    await page.locator('[data-testid="upload-item"][data-state="cancelled"]').nth(3).waitFor();
    expect(await page.locator('[data-testid="upload-item"][data-state="cancelled"]').count()).toBe(4);
    release();
    await page.getByTestId('clear-finished').click();
    await page.unroute('**/api/upload');

    // A folder: its images and videos go up, anything else is left out (and said so).
    const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'thumbs-folder-'));
    const album = path.join(folder, 'Holiday');
    fs.mkdirSync(album);
    const [one, two] = await photos(2, 'folder');
    fs.writeFileSync(path.join(album, one.name), one.buffer);
    fs.writeFileSync(path.join(album, two.name), two.buffer);
    fs.writeFileSync(path.join(album, 'notes.txt'), 'not a picture');
    fs.writeFileSync(path.join(album, '.DS_Store'), 'x');
    await page.getByTestId('folder-input').setInputFiles(album);
    await page.getByTestId('upload-skipped').filter({ hasText: '2 files in the folder left out' }).waitFor();
    await page.locator('[data-testid="upload-item"][data-job-status="completed"]').nth(1).waitFor({ timeout: 60_000 });
    await tile(page, 'folder-01.jpg').waitFor();
    fs.rmSync(folder, { recursive: true, force: true });
  });

  it('selects with clicks, shift-clicks and the keyboard, and deletes the selection with one confirmation', async () => {
    const page = await open();
    await signUp(page, stack.baseUrl, 'select');
    await page.getByTestId('file-input').setInputFiles(await photos(8, 'sel'));
    await waitForAllFinished(page, 8);
    const order = await tileNames(page);

    await tile(page, order[0]).getByTestId('select-toggle').click();
    await tile(page, order[3]).click({ modifiers: ['Shift'] });
    await page.getByTestId('bulk-count').filter({ hasText: '4 selected' }).waitFor();
    expect(await page.locator('[data-testid="job-tile"][aria-selected="true"]').count()).toBe(4);
    // While something is selected a click toggles instead of opening.
    await tile(page, order[5]).click();
    await page.getByTestId('bulk-count').filter({ hasText: '5 selected' }).waitFor();
    expect(page.url()).toMatch(/\/dashboard/);
    await audit(page, 'bulk bar');
    await screenshotsEverywhere(page, 'bulk-bar', 200);
    // Ctrl+A in the grid selects all in view; Esc clears.
    await tile(page, order[1]).focus();
    await page.keyboard.press('Control+a');
    await page.getByTestId('bulk-count').filter({ hasText: '8 selected' }).waitFor();
    await page.keyboard.press('Escape');
    await page.getByTestId('bulk-bar').waitFor({ state: 'detached' });

    // Select three, delete them in one go (to the trash, with Undo: no confirmation).
    for (const name of order.slice(0, 3)) await tile(page, name).getByTestId('select-toggle').click();
    await page.getByTestId('bulk-delete').click();
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="job-tile"]').length === 5);
    await page.getByTestId('job-count').filter({ hasText: '5 jobs' }).waitFor();
    await page.reload();
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="job-tile"]').length === 5);
  });

  it('deletes to the trash with Undo in its message, restores from the Trash page and empties it after one confirmation', async () => {
    const page = await open();
    await signUp(page, stack.baseUrl, 'trash');
    await page.getByTestId('file-input').setInputFiles(await photos(4, 'bin'));
    await waitForAllFinished(page, 4);
    const order = await tileNames(page);
    const count = (n: number) =>
      page.waitForFunction((wanted) => document.querySelectorAll('[data-testid="job-tile"]').length === wanted, n);

    // Deleted: out of the library at once, no confirmation; Undo in the message brings it back.
    await tile(page, order[0]).getByTestId('select-toggle').click();
    await page.getByTestId('bulk-delete').click();
    await tile(page, order[0]).waitFor({ state: 'detached' });
    await page.getByRole('button', { name: 'Undo' }).click();
    await tile(page, order[0]).waitFor();
    await count(4);

    // Two deleted are in the Trash page, with what happens to them said.
    for (const name of order.slice(0, 2)) await tile(page, name).getByTestId('select-toggle').click();
    await page.getByTestId('bulk-delete').click();
    await count(2);
    await page.getByTestId('nav-trash').click();
    await page.waitForURL(/\/trash/);
    await count(2);
    expect(await page.locator('.trash-note').innerText()).toMatch(/7 days/);
    // Audited once the delete's message (with Undo, 8 s) has gone: Material's snack bar holds it under
    // aria-hidden for a moment after it opens, and fades it out at the end, both states axe would measure.
    await page.locator('mat-snack-bar-container').waitFor({ state: 'detached', timeout: 30_000 });
    await audit(page, 'trash');
    await screenshotsEverywhere(page, 'trash', 200);

    // Restored from the trash: back in the library.
    await tile(page, order[0]).getByTestId('select-toggle').click();
    await page.getByTestId('bulk-restore').click();
    await tile(page, order[0]).waitFor({ state: 'detached' });
    const emptiedId = await tile(page, order[1]).getAttribute('data-job-id');

    // Emptied after one confirmation (Cancel keeps it): nothing left, and its link says it is gone.
    await page.getByTestId('empty-trash').click();
    await page.getByTestId('confirm-cancel').click();
    await tile(page, order[1]).waitFor();
    // The cancelled dialog leaves with an animation; opened again before it has gone, two dialogs'
    // buttons are on the page for a moment (a CI run clicked into that).
    await page.getByTestId('confirm-cancel').waitFor({ state: 'detached' });
    await page.getByTestId('empty-trash').click();
    await page.getByTestId('confirm-accept').click();
    await page.getByTestId('jobs-empty').waitFor();
    await page.getByTestId('nav-library').click();
    await tile(page, order[0]).waitFor();
    await count(3);
    await page.goto(`${stack.baseUrl}/jobs/${emptiedId}`);
    await page.getByTestId('viewer-gone').waitFor();
  });

  it('works with the keyboard alone: upload, select, viewer and delete', async () => {
    const page = await open();
    await signUp(page, stack.baseUrl, 'keys');
    await page.keyboard.press('Tab'); // into the page
    await tabTo(page, 'choose-files');
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => document.activeElement?.getAttribute('data-testid') === 'upload-files');
    const files = await photos(3, 'key');
    // Enter on the menu item opens the file chooser; on a busy machine a key can land while the menu
    // is still opening, so Enter is pressed again (on the same focused item) until the chooser shows.
    const chooser = page.waitForEvent('filechooser', { timeout: 60_000 });
    for (let attempt = 0; attempt < 5; attempt += 1) {
      await page.keyboard.press('Enter');
      const shown = await Promise.race([chooser.then(() => true), page.waitForTimeout(5000).then(() => false)]);
      if (shown) break;
      if ((await activeTestId(page)).testId !== 'upload-files') {
        // The menu closed without a chooser: open it again from its trigger.
        await tabTo(page, 'choose-files');
        await page.keyboard.press('Enter');
        await page.waitForFunction(() => document.activeElement?.getAttribute('data-testid') === 'upload-files');
      }
    }
    await (await chooser).setFiles(files);
    await waitForAllFinished(page, 3);

    await tabTo(page, 'cell');
    await waitForActiveIndex(page, '0');
    await page.keyboard.press('ArrowRight');
    await waitForActiveIndex(page, '1');
    await page.keyboard.press('Space');
    await page.locator('[data-index="1"][aria-selected="true"]').waitFor();
    await page.keyboard.press('Shift+ArrowRight');
    await page.getByTestId('bulk-count').filter({ hasText: '2 selected' }).waitFor();
    await page.keyboard.press('Escape');
    await page.getByTestId('bulk-bar').waitFor({ state: 'detached' });

    await page.keyboard.press('Enter');
    await page.getByTestId('viewer').waitFor();
    expect(await page.evaluate(() => !!document.activeElement?.closest('[data-testid="viewer"]'))).toBe(true);
    await page.keyboard.press('ArrowLeft');
    await page.waitForFunction(() => document.querySelector('[data-testid="viewer"]')?.getAttribute('data-job-id') !== null);
    await closeViewerWithEscape(page);
    await page.waitForFunction(() => document.activeElement?.getAttribute('data-index') != null);
    const focused = await activeTestId(page);
    expect(focused.index).not.toBeNull();

    // To the trash at once (Undo offered instead of a confirmation).
    await page.keyboard.press('Delete');
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="job-tile"]').length === 2);
    expect(await page.locator(`[data-job-id="${focused.jobId}"]`).count()).toBe(0);
  });

  it('lays the library out for a phone: name kept, upload as a floating button, filters wrapping, nothing cut off', async () => {
    const page = await open({ viewport: VIEWPORTS.phone });
    await signUp(page, stack.baseUrl, 'phone');
    await page.getByTestId('file-input').setInputFiles(await photos(9, 'phone'));
    await waitForAllFinished(page, 9);
    expect(await page.locator('.brand-name').isVisible()).toBe(true);
    expect(await page.getByTestId('upload-fab').isVisible()).toBe(true);
    expect(await page.getByTestId('choose-files').isVisible()).toBe(false);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    expect(overflow).toBe(0);
    const chips = await page
      .locator('[data-testid^="status-filter-"]')
      .evaluateAll((buttons: PageElement[]) => buttons.map((button) => button.getBoundingClientRect().right));
    expect(chips).toHaveLength(6);
    for (const right of chips) expect(right).toBeLessThanOrEqual(390);
    const columns = await page.evaluate(() => document.querySelector('[role="row"]')?.querySelectorAll('[data-testid="job-tile"]').length);
    expect(columns).toBe(3);
    await audit(page, 'library (phone)');
    for (const scheme of ['light', 'dark'] as const) {
      await page.emulateMedia({ colorScheme: scheme });
      await screenshot(page, `phone-${scheme}`);
    }
    const [chooser] = await Promise.all([page.waitForEvent('filechooser'), page.getByTestId('upload-fab').click()]);
    expect(chooser.isMultiple()).toBe(true);
  });

  it('says when a session has ended and keeps the email; sign-in and other pages pass axe', async () => {
    const page = await open();
    await page.goto(`${stack.baseUrl}/login`);
    await audit(page, 'sign-in');
    for (const scheme of ['light', 'dark'] as const) {
      await page.emulateMedia({ colorScheme: scheme });
      await screenshot(page, `login-phone-${scheme}`);
    }
    await page.emulateMedia({ colorScheme: 'light' });
    await page.goto(`${stack.baseUrl}/register`);
    await audit(page, 'registration');
    const email = await signUp(page, stack.baseUrl, 'session');

    // Settings: an API key made in the page is shown once (thumbs_…) and listed without it.
    await page.goto(`${stack.baseUrl}/settings`);
    await page.getByTestId('webhooks').waitFor();
    await page.getByTestId('api-key-name').fill('backup script');
    await page.getByTestId('api-key-create').click();
    expect(await page.getByTestId('secret-value').first().inputValue()).toMatch(/^thumbs_[A-Za-z0-9_-]{43}$/);
    await page.getByTestId('api-key-row').filter({ hasText: 'backup script' }).waitFor();
    await audit(page, 'settings (API keys and webhooks)');
    await page.getByTestId('secret-done').click();
    await page.getByTestId('secret-value').waitFor({ state: 'detached' });
    await page.goto(`${stack.baseUrl}/trash`);
    await page.getByTestId('jobs-empty').waitFor();
    await audit(page, 'trash (empty)');

    const expireAccessToken = () =>
      page.evaluate(() => {
        const session = JSON.parse(localStorage.getItem('thumbs.session')!) as { expiresAt: number };
        localStorage.setItem('thumbs.session', JSON.stringify({ ...session, expiresAt: Date.now() - 1000 }));
      });
    // An access token that ran out while the app was closed is renewed with the refresh cookie: the user stays.
    await expireAccessToken();
    await page.goto(`${stack.baseUrl}/dashboard?view=list`);
    await page.waitForFunction(() => {
      const raw = localStorage.getItem('thumbs.session');
      return raw !== null && (JSON.parse(raw) as { expiresAt: number }).expiresAt > Date.now();
    });
    expect(page.url()).toMatch(/\/dashboard\?view=list/);
    // Without the refresh cookie (signed out elsewhere, or it expired too) the session has ended.
    await page.context().clearCookies();
    await expireAccessToken();
    await page.goto(`${stack.baseUrl}/dashboard?view=list`);
    await page.waitForURL(/\/login\?/);
    expect(await page.getByTestId('login-notice').innerText()).toMatch(/session has ended/i);
    expect(await page.getByTestId('login-email').inputValue()).toBe(email);
    await audit(page, 'sign-in after the session ended');
    await page.getByTestId('login-password').fill(PASSWORD);
    await page.getByTestId('login-submit').click();
    await page.waitForURL(/\/dashboard\?view=list/);
  });

  it('found no accessibility violations on any page (axe-core)', () => {
    expect(violations).toEqual({});
    const errors = opened.flatMap((each) => each.errors).filter((text) => !/Failed to load resource.*(401|404)/.test(text));
    expect(errors).toEqual([]);
  });
});
